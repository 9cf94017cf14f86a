import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUpstreamOAuthClient } from '../../src/connections/upstream-oauth/index.js';
import type {
  PendingAuthorization,
  UpstreamOAuthClient,
} from '../../src/connections/upstream-oauth-contract.js';
import type { EgressGuard } from '../../src/egress/index.js';
import { startPersonUpstream, type PersonUpstream } from '../fixtures/person-upstream-server.js';
import {
  startUpstreamAs,
  testOnlySignIn,
  UPSTREAM_SUBJECTS,
  type UpstreamAs,
} from '../fixtures/upstream-as.js';
import {
  CLIENT_SECRET,
  loopbackGuard,
  REDIRECT_URI,
  settingsFor,
  whoami,
} from '../helpers/upstream-oauth.js';

/**
 * Callbacks that do not belong to the pending request. An attacker who can make the gateway's
 * callback URL load in a person's browser (a link, an image, a login-CSRF page) tries to have
 * the gateway redeem a code of the attacker's choosing for the victim's connection — a code
 * from the attacker's own account, so the victim's later calls act as the attacker and leak to
 * them — or tries a mix-up (RFC 9207) with a callback claiming another issuer. Each comes back
 * `mismatch`, and the token endpoint is not asked; the real callback beside it still connects.
 */
describe('upstream OAuth callbacks that do not match the pending request', () => {
  let as: UpstreamAs;
  let upstream: PersonUpstream;
  let guard: EgressGuard;
  let client: UpstreamOAuthClient;

  before(async () => {
    as = await startUpstreamAs({ clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] });
    upstream = await startPersonUpstream({ issuer: as.issuer });
    as.resources.add(upstream.url);
    guard = loopbackGuard();
    client = createUpstreamOAuthClient({ guard });
  });
  after(async () => {
    await upstream?.close();
    await as?.close();
    await guard?.close();
  });

  const settings = () => settingsFor(upstream.url);
  async function begin(login: 'alice' | 'bob'): Promise<{ pending: PendingAuthorization; callback: URL }> {
    const begun = await client.beginAuthorization(settings(), REDIRECT_URI);
    assert.ok(begun.ok, JSON.stringify(begun));
    return {
      pending: begun.value.pending,
      callback: await testOnlySignIn(begun.value.url, REDIRECT_URI, { login }),
    };
  }
  const tokenRequests = () => as.requests.filter((r) => r.endpoint === 'token').length;
  const withParams = (callback: URL, change: Record<string, string | null>) => {
    const url = new URL(callback);
    for (const [name, value] of Object.entries(change)) {
      if (value === null) url.searchParams.delete(name);
      else url.searchParams.set(name, value);
    }
    return url;
  };

  it('a wrong state, a missing state or a repeated state is a mismatch, and no code is redeemed', async () => {
    const victim = await begin('alice');
    const before = tokenRequests();
    for (const forged of [
      withParams(victim.callback, { state: 'attacker-chosen-state-value-0000000000000' }),
      withParams(victim.callback, { state: null }),
      new URL(`${victim.callback.href}&state=${victim.pending.state}`),
    ]) {
      const result = await client.completeAuthorization(settings(), victim.pending, forged);
      assert.equal(!result.ok && result.reason, 'mismatch', forged.search);
    }
    assert.equal(tokenRequests(), before, 'the token endpoint was never asked');
    const real = await client.completeAuthorization(settings(), victim.pending, victim.callback);
    assert.ok(real.ok, JSON.stringify(real));
    assert.equal(real.value.subject, UPSTREAM_SUBJECTS.alice);
  });

  it('a callback naming another issuer, or none although the AS advertises RFC 9207, is a mismatch', async () => {
    const victim = await begin('alice');
    assert.equal(victim.callback.searchParams.get('iss'), as.issuer, 'the fixture AS sends iss');
    const before = tokenRequests();
    for (const forged of [
      withParams(victim.callback, { iss: 'https://attacker-as.example' }),
      withParams(victim.callback, { iss: `${as.issuer}/` }),
      withParams(victim.callback, { iss: null }),
    ]) {
      const result = await client.completeAuthorization(settings(), victim.pending, forged);
      assert.equal(!result.ok && result.reason, 'mismatch', forged.search);
    }
    // A pending request that went to another AS than the one discovered now is a mismatch too.
    const moved = await client.completeAuthorization(
      settings(),
      { ...victim.pending, issuer: 'https://attacker-as.example' },
      victim.callback,
    );
    assert.equal(!moved.ok && moved.reason, 'mismatch');
    assert.equal(tokenRequests(), before);
    const real = await client.completeAuthorization(settings(), victim.pending, victim.callback);
    assert.ok(real.ok, JSON.stringify(real));
  });

  it('the attacker’s own code, planted in the victim’s callback with or without the victim’s state, is a mismatch', async () => {
    const victim = await begin('alice');
    const attacker = await begin('bob');
    // The attacker's whole callback, state and all: the state is not the victim's.
    const whole = await client.completeAuthorization(settings(), victim.pending, attacker.callback);
    assert.equal(!whole.ok && whole.reason, 'mismatch');
    // The attacker's code under the victim's state (a leaked state): PKCE binds the code to the
    // attacker's verifier, so the AS refuses to redeem it with the victim's.
    const planted = withParams(victim.callback, { code: attacker.callback.searchParams.get('code') });
    const result = await client.completeAuthorization(settings(), victim.pending, planted);
    assert.equal(!result.ok && result.reason, 'mismatch', JSON.stringify(result));

    const real = await client.completeAuthorization(settings(), victim.pending, victim.callback);
    assert.ok(real.ok, JSON.stringify(real));
    assert.equal(await whoami(upstream.url, real.value.accessToken), UPSTREAM_SUBJECTS.alice);
  });

  it('a code already redeemed is a mismatch the second time', async () => {
    const victim = await begin('alice');
    const first = await client.completeAuthorization(settings(), victim.pending, victim.callback);
    assert.ok(first.ok, JSON.stringify(first));
    const second = await client.completeAuthorization(settings(), victim.pending, victim.callback);
    assert.equal(!second.ok && second.reason, 'mismatch');
  });
});
