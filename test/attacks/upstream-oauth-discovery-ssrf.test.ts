import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createUpstreamOAuthClient } from '../../src/connections/upstream-oauth/index.js';
import { startPersonUpstream, type PersonUpstream } from '../fixtures/person-upstream-server.js';
import { startUpstreamAs, type UpstreamAs } from '../fixtures/upstream-as.js';
import { CLIENT_SECRET, loopbackGuard, REDIRECT_URI, settingsFor } from '../helpers/upstream-oauth.js';

/**
 * Discovery as a server-side request forgery. The upstream decides what its RFC 9728 metadata
 * says, so it can name an "authorization server" on the gateway's internal network — the cloud
 * metadata service, a link-local or private address, the gateway's own loopback — and have the
 * gateway fetch `/.well-known/...` from it (and later POST the client secret to its "token
 * endpoint"). Every discovery request goes through the egress guard, which decides: an address
 * the operator did not allow is refused before any connection, and the refusal's detail names
 * the guard's reason. The operator's explicit allowance lets the same AS through.
 */
describe('an upstream whose metadata names an authorization server on an internal address', () => {
  let as: UpstreamAs;
  let toInternal: PersonUpstream;
  let toMetadataService: PersonUpstream;
  let toPrivate: PersonUpstream;

  before(async () => {
    // The AS listens on another loopback address than the upstream (127.0.0.2), so the guard
    // can allow the one and not the other.
    as = await startUpstreamAs({
      clientSecret: CLIENT_SECRET,
      redirectUris: [REDIRECT_URI],
      host: '127.0.0.2',
    });
    toInternal = await startPersonUpstream({ issuer: as.issuer });
    toMetadataService = await startPersonUpstream({
      issuer: as.issuer,
      authorizationServers: ['http://169.254.169.254/latest'],
    });
    toPrivate = await startPersonUpstream({
      issuer: as.issuer,
      authorizationServers: ['http://10.0.0.7:8080'],
    });
    as.resources.add(toInternal.url);
  });
  after(async () => {
    for (const s of [toInternal, toMetadataService, toPrivate, as]) await s?.close();
  });

  it('refuses an AS on the cloud metadata address or a private address before connecting', async () => {
    const guard = loopbackGuard(['127.0.0.1/32']);
    const client = createUpstreamOAuthClient({ guard, timeoutMs: 3_000 });
    try {
      for (const upstream of [toMetadataService, toPrivate]) {
        const started = Date.now();
        const result = await client.beginAuthorization(settingsFor(upstream.url), REDIRECT_URI);
        assert.equal(!result.ok && result.reason, 'refused', JSON.stringify(result));
        assert.match(!result.ok ? result.detail : '', /egress-blocked-address/);
        assert.ok(Date.now() - started < 2_000, 'refused at once, not after a connect timeout');
      }
    } finally {
      await guard.close();
    }
  });

  it('refuses an AS on a loopback address the operator did not allow; nothing reaches it', async () => {
    const guard = loopbackGuard(['127.0.0.1/32']);
    const client = createUpstreamOAuthClient({ guard });
    try {
      const result = await client.beginAuthorization(settingsFor(toInternal.url), REDIRECT_URI);
      assert.equal(!result.ok && result.reason, 'refused', JSON.stringify(result));
      assert.match(!result.ok ? result.detail : '', /egress-blocked-address/);
      const exchange = await client.exchangeToken(settingsFor(toInternal.url), {
        token: 't',
        tokenType: 'x',
      });
      assert.equal(!exchange.ok && exchange.reason, 'refused');
      assert.equal(as.hits(), 0, 'the internal AS never saw a request');
    } finally {
      await guard.close();
    }
  });

  it('with the address allowed by the operator, the same AS is discovered', async () => {
    const guard = loopbackGuard(['127.0.0.1/32', '127.0.0.2/32']);
    const client = createUpstreamOAuthClient({ guard });
    try {
      const result = await client.beginAuthorization(settingsFor(toInternal.url), REDIRECT_URI);
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(new URL(result.value.url).origin, as.issuer);
      assert.ok(as.hits() > 0);
    } finally {
      await guard.close();
    }
  });

  it('refuses endpoints in an allowed AS’s metadata that point at an address the operator did not allow', async () => {
    // A public-looking AS (allowed) whose metadata sends the token and revocation requests —
    // with the refresh token and the client secret in them — to an internal service.
    let internalHits = 0;
    const internal = http.createServer((_req, res) => {
      internalHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.2', resolve));
    const inside = `http://127.0.0.2:${(internal.address() as AddressInfo).port}`;
    const front = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const body =
        path === '/.well-known/oauth-protected-resource/mcp'
          ? { resource: `${origin}/mcp`, authorization_servers: [origin] }
          : path === '/.well-known/oauth-authorization-server'
            ? {
                issuer: origin,
                authorization_endpoint: `${origin}/authorize`,
                token_endpoint: `${inside}/token`,
                revocation_endpoint: `${inside}/revoke`,
                code_challenge_methods_supported: ['S256'],
              }
            : undefined;
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    const guard = loopbackGuard(['127.0.0.1/32']);
    try {
      const client = createUpstreamOAuthClient({ guard });
      const settings = settingsFor(`${origin}/mcp`);
      const refreshed = await client.refresh(settings, 'refresh-token-9d3c');
      assert.equal(!refreshed.ok && refreshed.reason, 'refused', JSON.stringify(refreshed));
      assert.match(!refreshed.ok ? refreshed.detail : '', /egress-blocked-address/);
      const revoked = await client.revoke(settings, 'refresh-token-9d3c');
      assert.equal(!revoked.ok && revoked.reason, 'refused');
      assert.equal(internalHits, 0, 'nothing reached the internal address');
    } finally {
      await guard.close();
      for (const s of [front, internal]) await new Promise((resolve) => s.close(resolve));
    }
  });
});
