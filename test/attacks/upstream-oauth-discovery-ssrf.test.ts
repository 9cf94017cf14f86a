import assert from 'node:assert/strict';
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
});
