import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createUpstreamOAuthClient } from '../../src/connections/upstream-oauth/index.js';
import type { UpstreamOAuthClient, UpstreamTokenSet } from '../../src/connections/upstream-oauth-contract.js';
import type { EgressGuard } from '../../src/egress/index.js';
import { startPersonUpstream, type PersonUpstream } from '../fixtures/person-upstream-server.js';
import {
  ACCESS_TOKEN_TYPE,
  startUpstreamAs,
  testOnlySignIn,
  UPSTREAM_SUBJECTS,
  type UpstreamAs,
  type UpstreamLogin,
} from '../fixtures/upstream-as.js';
import {
  CLIENT_SECRET,
  loopbackGuard,
  REDIRECT_URI,
  settingsFor,
  statusWith,
  whoami,
} from '../helpers/upstream-oauth.js';

const TTL_SECONDS = 3;

/**
 * The gateway as an OAuth client of an upstream's own authorization server: a real
 * oidc-provider AS and an HTTP MCP upstream that accepts only that AS's tokens for itself, both
 * on loopback, reached through the egress guard. alice and bob connect; each token acts as its
 * own person upstream; refresh rotates; revocation and token exchange work.
 */
describe('the OAuth client of an upstream authorization server', () => {
  let as: UpstreamAs;
  let upstream: PersonUpstream;
  let guard: EgressGuard;
  let client: UpstreamOAuthClient;

  before(async () => {
    as = await startUpstreamAs({
      clientSecret: CLIENT_SECRET,
      redirectUris: [REDIRECT_URI],
      accessTokenTtlSeconds: TTL_SECONDS,
      subjectTokens: { 'portcullis-token-of-bob': 'bob' },
    });
    upstream = await startPersonUpstream({ issuer: as.issuer });
    as.resources.add(upstream.url);
    guard = loopbackGuard();
    client = createUpstreamOAuthClient({ guard, timeoutMs: 5_000 });
  });
  after(async () => {
    await upstream?.close();
    await as?.close();
    await guard?.close();
  });

  async function connect(login: UpstreamLogin, scopes = ['files:read']): Promise<UpstreamTokenSet> {
    const settings = settingsFor(upstream.url, { scopes });
    const begun = await client.beginAuthorization(settings, REDIRECT_URI);
    assert.ok(begun.ok, JSON.stringify(begun));
    const callback = await testOnlySignIn(begun.value.url, REDIRECT_URI, { login });
    const done = await client.completeAuthorization(settings, begun.value.pending, callback);
    assert.ok(done.ok, JSON.stringify(done));
    return done.value;
  }

  it('discovers the AS from the upstream’s RFC 9728 metadata and asks with PKCE S256, state, resource and exactly the configured scopes', async () => {
    const begun = await client.beginAuthorization(
      settingsFor(upstream.url, { scopes: ['openid', 'files:read'] }),
      REDIRECT_URI,
    );
    assert.ok(begun.ok, JSON.stringify(begun));
    const url = new URL(begun.value.url);
    assert.equal(url.origin, as.issuer);
    assert.equal(url.pathname, '/auth');
    const q = url.searchParams;
    assert.equal(q.get('client_id'), 'portcullis-gateway');
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('redirect_uri'), REDIRECT_URI);
    assert.equal(q.get('scope'), 'openid files:read');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge') ?? '', /^[\w-]{43}$/);
    assert.equal(q.get('resource'), upstream.url);
    assert.equal(q.get('state'), begun.value.pending.state);
    assert.ok(begun.value.pending.state.length >= 32);
    assert.ok(begun.value.pending.codeVerifier.length >= 43);
    assert.equal(begun.value.pending.issuer, as.issuer);
    assert.ok(!begun.value.url.includes(begun.value.pending.codeVerifier), 'the verifier stays server-side');
  });

  it('connects alice with the code flow: a token for this upstream only, acting as alice (subject from the ID token)', async () => {
    const tokens = await connect('alice', ['openid', 'files:read']);
    assert.equal(tokens.subject, UPSTREAM_SUBJECTS.alice);
    // The access token carries the resource's scopes; `openid` was for the ID token.
    assert.deepEqual(tokens.scopes, ['files:read']);
    assert.ok(tokens.refreshToken);
    assert.ok(
      tokens.expiresAt &&
        tokens.expiresAt > Date.now() &&
        tokens.expiresAt <= Date.now() + TTL_SECONDS * 1000,
    );
    assert.equal(decodeJwt(tokens.accessToken).aud, upstream.url);
    assert.equal(await whoami(upstream.url, tokens.accessToken), UPSTREAM_SUBJECTS.alice);
    const token = as.requests.find((r) => r.endpoint === 'token' && r.grantType === 'authorization_code');
    assert.equal(token?.resource, upstream.url, 'the token request names the resource too');
  });

  it('bob connects as bob (subject from the JWT access token, no openid scope); each token reaches the upstream as its own person', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    assert.equal(bob.subject, UPSTREAM_SUBJECTS.bob);
    assert.equal(alice.subject, UPSTREAM_SUBJECTS.alice);
    assert.equal(await whoami(upstream.url, bob.accessToken), UPSTREAM_SUBJECTS.bob);
    assert.equal(await whoami(upstream.url, alice.accessToken), UPSTREAM_SUBJECTS.alice);
    const seen = upstream.calls.filter((c) => c.tool === 'whoami').slice(-2);
    assert.deepEqual(
      seen.map((c) => c.subject),
      [UPSTREAM_SUBJECTS.bob, UPSTREAM_SUBJECTS.alice],
    );
  });

  it('refresh before expiry gives a working new token and rotates the refresh token; the old one is refused afterwards', async () => {
    const first = await connect('alice');
    const settings = settingsFor(upstream.url);
    const renewed = await client.refresh(settings, first.refreshToken!);
    assert.ok(renewed.ok, JSON.stringify(renewed));
    assert.notEqual(renewed.value.accessToken, first.accessToken);
    assert.ok(renewed.value.refreshToken && renewed.value.refreshToken !== first.refreshToken, 'rotated');
    assert.equal(renewed.value.subject, UPSTREAM_SUBJECTS.alice);
    assert.equal(decodeJwt(renewed.value.accessToken).aud, upstream.url);
    assert.equal(await whoami(upstream.url, renewed.value.accessToken), UPSTREAM_SUBJECTS.alice);

    // The first access token runs out; the upstream refuses it and the refreshed chain goes on.
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 200));
    assert.equal(await statusWith(upstream.url, first.accessToken), 401);
    const again = await client.refresh(settings, renewed.value.refreshToken);
    assert.ok(again.ok, JSON.stringify(again));
    assert.equal(await whoami(upstream.url, again.value.accessToken), UPSTREAM_SUBJECTS.alice);

    const replayed = await client.refresh(settings, first.refreshToken!);
    assert.equal(replayed.ok, false);
    assert.equal(!replayed.ok && replayed.reason, 'refused');
    assert.ok(
      !replayed.ok && !replayed.detail.includes(first.refreshToken!),
      'the detail never holds the token',
    );
  });

  it('a revoked refresh token is refused at the next refresh (RFC 7009 at the AS’s revocation endpoint)', async () => {
    const tokens = await connect('bob');
    const settings = settingsFor(upstream.url);
    const revoked = await client.revoke(settings, tokens.refreshToken!);
    assert.deepEqual(revoked, { ok: true, value: true });
    const refreshed = await client.refresh(settings, tokens.refreshToken!);
    assert.equal(!refreshed.ok && refreshed.reason, 'refused');
  });

  it('a person who denies consent comes back as refused, not as an error', async () => {
    const settings = settingsFor(upstream.url);
    const begun = await client.beginAuthorization(settings, REDIRECT_URI);
    assert.ok(begun.ok);
    const callback = await testOnlySignIn(begun.value.url, REDIRECT_URI, { deny: true });
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    const done = await client.completeAuthorization(settings, begun.value.pending, callback);
    assert.equal(!done.ok && done.reason, 'refused');
  });

  it('token exchange (RFC 8693) turns an accepted subject token into an upstream token for bob; an unknown one is refused', async () => {
    const settings = settingsFor(upstream.url);
    const exchanged = await client.exchangeToken(settings, {
      token: 'portcullis-token-of-bob',
      tokenType: ACCESS_TOKEN_TYPE,
    });
    assert.ok(exchanged.ok, JSON.stringify(exchanged));
    assert.equal(exchanged.value.subject, UPSTREAM_SUBJECTS.bob);
    assert.deepEqual(exchanged.value.scopes, ['files:read']);
    assert.equal(decodeJwt(exchanged.value.accessToken).aud, upstream.url);
    assert.equal(await whoami(upstream.url, exchanged.value.accessToken), UPSTREAM_SUBJECTS.bob);
    const sent = as.requests.findLast(
      (r) => r.grantType === 'urn:ietf:params:oauth:grant-type:token-exchange',
    );
    assert.equal(sent?.resource, upstream.url);

    const unknown = await client.exchangeToken(settings, {
      token: 'not-a-token-it-knows',
      tokenType: ACCESS_TOKEN_TYPE,
    });
    assert.equal(!unknown.ok && unknown.reason, 'refused');
  });

  it('an unreachable AS is unavailable, not refused, so the stored connection is kept', async () => {
    const dead = createUpstreamOAuthClient({ guard, timeoutMs: 2_000 });
    const result = await dead.refresh(
      settingsFor('http://127.0.0.1:9/mcp', { issuer: 'http://127.0.0.1:9' }),
      'whatever',
    );
    assert.equal(!result.ok && result.reason, 'unavailable');
  });

  it('keeps a discovered AS per upstream for a while, then discovers again', async () => {
    let clock = 1_000_000;
    const cached = createUpstreamOAuthClient({ guard, discoveryTtlMs: 60_000, now: () => clock });
    const settings = settingsFor(upstream.url);
    assert.ok((await cached.beginAuthorization(settings, REDIRECT_URI)).ok);
    const afterFirst = as.hits();
    assert.ok((await cached.beginAuthorization(settings, REDIRECT_URI)).ok);
    assert.equal(as.hits(), afterFirst, 'the second request used the cached metadata');
    clock += 60_001;
    assert.ok((await cached.beginAuthorization(settings, REDIRECT_URI)).ok);
    assert.ok(as.hits() > afterFirst, 'discovered afresh after the TTL');
  });

  it('gives up on an endpoint that never answers after the client’s timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = http.createServer(() => undefined);
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const impatient = createUpstreamOAuthClient({ guard, timeoutMs: 500 });
      const started = Date.now();
      const result = await impatient.beginAuthorization(
        settingsFor(`${origin}/mcp`, { issuer: origin }),
        REDIRECT_URI,
      );
      const took = Date.now() - started;
      assert.equal(!result.ok && result.reason, 'unavailable', JSON.stringify(result));
      assert.ok(took >= 450 && took < 2_500, `took ${took} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('learns the subject by introspection (RFC 7662) when the access token is opaque and there is no ID token', async () => {
    const opaque = await startUpstreamAs({
      clientSecret: CLIENT_SECRET,
      redirectUris: [REDIRECT_URI],
      opaqueAccessTokens: true,
    });
    const other = await startPersonUpstream({ issuer: opaque.issuer });
    opaque.resources.add(other.url);
    try {
      const settings = settingsFor(other.url);
      const begun = await client.beginAuthorization(settings, REDIRECT_URI);
      assert.ok(begun.ok, JSON.stringify(begun));
      const callback = await testOnlySignIn(begun.value.url, REDIRECT_URI, { login: 'bob' });
      const done = await client.completeAuthorization(settings, begun.value.pending, callback);
      assert.ok(done.ok, JSON.stringify(done));
      assert.equal(done.value.accessToken.split('.').length, 1, 'opaque');
      assert.equal(done.value.subject, UPSTREAM_SUBJECTS.bob);
      assert.ok(opaque.requests.some((r) => r.endpoint === 'introspection'));
    } finally {
      await other.close();
      await opaque.close();
    }
  });

  it('the upstream fixture challenges a request without a token with its RFC 9728 metadata URL', async () => {
    const res = await fetch(upstream.url, { method: 'POST', body: '{}' });
    assert.equal(res.status, 401);
    assert.equal(
      res.headers.get('www-authenticate'),
      `Bearer resource_metadata="${upstream.resourceMetadataUrl}"`,
    );
    const metadata = (await (await fetch(upstream.resourceMetadataUrl)).json()) as Record<string, unknown>;
    assert.equal(metadata.resource, upstream.url);
    assert.deepEqual(metadata.authorization_servers, [as.issuer]);
  });
});
