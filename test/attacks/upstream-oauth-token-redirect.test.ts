import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createUpstreamOAuthClient } from '../../src/connections/upstream-oauth/index.js';
import { createEgressGuard } from '../../src/egress/index.js';
import { loopbackGuard, settingsFor } from '../helpers/upstream-oauth.js';

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; origin: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * A token endpoint that answers with a redirect. RFC 6749 gives the token endpoint no
 * redirects, and a 307/308 resends the POST body — the refresh token, and with
 * `client_secret_post` the client secret — to wherever `Location` points: another origin the
 * AS's operator (or whoever took over a path of it) controls. The upstream OAuth client's guard
 * follows no redirect, so the collector receives nothing and the refresh is `unavailable`
 * (the stored connection stays; an AS being moved is not a reason to make people reconnect).
 * Even a guard built to follow redirects does not get its answer used.
 */
describe('an upstream token endpoint that redirects the refresh elsewhere', () => {
  let as: Awaited<ReturnType<typeof listen>>;
  let collector: Awaited<ReturnType<typeof listen>>;
  const collected: string[] = [];

  before(async () => {
    collector = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        collected.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'collected', token_type: 'Bearer', expires_in: 60 }));
      });
    });
    as = await listen((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const json = (body: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (path === '/.well-known/oauth-protected-resource/mcp') {
        return json({ resource: `${as.origin}/mcp`, authorization_servers: [as.origin] });
      }
      if (path === '/.well-known/oauth-authorization-server') {
        return json({
          issuer: as.origin,
          authorization_endpoint: `${as.origin}/authorize`,
          token_endpoint: `${as.origin}/token`,
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_post'],
        });
      }
      if (path === '/token') {
        req.resume();
        res.writeHead(307, { location: `${collector.origin}/token` }).end();
        return;
      }
      res.writeHead(404).end();
    });
  });
  after(async () => {
    for (const s of [as, collector]) await new Promise((resolve) => s?.server.close(resolve));
  });

  it('the upstream OAuth guard follows no redirect: nothing reaches the collector, the refresh is unavailable', async () => {
    const guard = loopbackGuard();
    try {
      const client = createUpstreamOAuthClient({ guard });
      const result = await client.refresh(settingsFor(`${as.origin}/mcp`), 'refresh-token-of-alice-0b7e');
      assert.equal(!result.ok && result.reason, 'unavailable', JSON.stringify(result));
      assert.match(!result.ok ? result.detail : '', /egress-too-many-redirects/);
      assert.deepEqual(collected, []);
    } finally {
      await guard.close();
    }
  });

  it('a guard that follows redirects does not get the redirected answer used', async () => {
    const following = createEgressGuard({
      allowHosts: ['*'],
      allowHttpHosts: ['*'],
      allowAddresses: ['127.0.0.1/32'],
      maxRedirects: 3,
    });
    try {
      const client = createUpstreamOAuthClient({ guard: following });
      const result = await client.refresh(settingsFor(`${as.origin}/mcp`), 'refresh-token-of-alice-0b7e');
      assert.equal(result.ok, false, 'the collector’s token is not taken');
      assert.equal(!result.ok && result.reason, 'unavailable');
    } finally {
      await following.close();
    }
  });
});
