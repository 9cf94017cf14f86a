import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createUpstreamOAuthClient } from '../../src/connections/upstream-oauth/index.js';
import type { UpstreamOAuthClient } from '../../src/connections/upstream-oauth-contract.js';
import type { EgressGuard } from '../../src/egress/index.js';
import { loopbackGuard, REDIRECT_URI, settingsFor } from '../helpers/upstream-oauth.js';

type Reply = { status?: number; type?: string; body: string };

/**
 * Upstream replies that are not what the protocols say: a metadata document that is not JSON
 * or is endless, an AS document claiming another issuer (RFC 8414 §3.3 mix-up), an AS without
 * PKCE, a token response without a token or of a foreign type. Each one is a tagged failure with
 * a detail for the log — never a throw across the interface, never a token set built from
 * nonsense — and the well-formed upstream beside them works.
 */
describe('hostile replies to the upstream OAuth client', () => {
  let server: http.Server;
  let origin: string;
  let guard: EgressGuard;
  let client: UpstreamOAuthClient;
  let replies: Record<string, Reply>;

  const asMetadata = (extra: Record<string, unknown> = {}) => ({
    issuer: origin,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    code_challenge_methods_supported: ['S256'],
    ...extra,
  });
  const json = (body: unknown): Reply => ({ body: JSON.stringify(body) });
  const wellFormed = (): Record<string, Reply> => ({
    '/.well-known/oauth-protected-resource/mcp': json({
      resource: `${origin}/mcp`,
      authorization_servers: [origin],
    }),
    '/.well-known/oauth-authorization-server': json(asMetadata()),
    '/token': json({ access_token: 'at-1', token_type: 'Bearer', expires_in: 60, refresh_token: 'rt-2' }),
  });

  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      const reply = replies[new URL(req.url ?? '/', 'http://x').pathname];
      if (!reply) return void res.writeHead(404).end();
      res
        .writeHead(reply.status ?? 200, { 'content-type': reply.type ?? 'application/json' })
        .end(reply.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    guard = loopbackGuard();
  });
  beforeEach(() => {
    replies = wellFormed();
    // A fresh client each time: nothing cached from the previous case.
    client = createUpstreamOAuthClient({ guard });
  });
  after(async () => {
    await guard?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  const settings = () => settingsFor(`${origin}/mcp`);

  it('the well-formed upstream refreshes (the control case)', async () => {
    const result = await client.refresh(settings(), 'rt-1');
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.value.refreshToken, 'rt-2');
  });

  it('resource metadata that is not JSON, endless, or a 500 is unavailable', async () => {
    for (const reply of [
      { body: '<html>hello</html>', type: 'text/html' },
      { body: JSON.stringify({ resource: `${origin}/mcp`, pad: 'x'.repeat(400 * 1024) }) },
      { status: 500, body: '{}' },
    ]) {
      replies['/.well-known/oauth-protected-resource/mcp'] = reply;
      const result = await createUpstreamOAuthClient({ guard }).beginAuthorization(settings(), REDIRECT_URI);
      assert.equal(!result.ok && result.reason, 'unavailable', JSON.stringify(result));
    }
  });

  it('AS metadata claiming another issuer is not used', async () => {
    replies['/.well-known/oauth-authorization-server'] = json(
      asMetadata({ issuer: 'https://other-as.example' }),
    );
    const result = await client.beginAuthorization(settings(), REDIRECT_URI);
    assert.equal(result.ok, false, JSON.stringify(result));
  });

  it('an AS that does not advertise PKCE S256 is refused (MCP authorization: must not proceed)', async () => {
    for (const methods of [undefined, ['plain']]) {
      replies['/.well-known/oauth-authorization-server'] = json(
        asMetadata({ code_challenge_methods_supported: methods }),
      );
      const result = await createUpstreamOAuthClient({ guard }).beginAuthorization(settings(), REDIRECT_URI);
      assert.equal(!result.ok && result.reason, 'refused', JSON.stringify(result));
    }
  });

  it('a token response without a token, with a foreign token type, or not JSON is unavailable', async () => {
    for (const body of [
      JSON.stringify({ token_type: 'Bearer', expires_in: 60 }),
      JSON.stringify({ access_token: 'at', token_type: 'mac', expires_in: 60 }),
      'access_token=at&token_type=bearer',
    ]) {
      replies['/token'] = { body };
      const result = await client.refresh(settings(), 'rt-1');
      assert.equal(!result.ok && result.reason, 'unavailable', `${body}: ${JSON.stringify(result)}`);
    }
  });

  it('a token exchange answer that is not an access token is not used', async () => {
    replies['/token'] = json({
      access_token: 'an-id-token-really',
      issued_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      token_type: 'N_A',
    });
    const result = await client.exchangeToken(settings(), {
      token: 'subject',
      tokenType: 'urn:ietf:params:oauth:token-type:access_token',
    });
    assert.equal(result.ok, false, JSON.stringify(result));
  });
});
