import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUpstreamOAuthClient } from '../../src/connections/upstream-oauth/index.js';
import type { EgressGuard } from '../../src/egress/index.js';
import { startPersonUpstream, type PersonUpstream } from '../fixtures/person-upstream-server.js';
import { startUpstreamAs, type UpstreamAs } from '../fixtures/upstream-as.js';
import { CLIENT_SECRET, loopbackGuard, REDIRECT_URI, settingsFor } from '../helpers/upstream-oauth.js';

/**
 * An upstream that names another authorization server than the operator configured. A
 * compromised or hostile upstream publishes RFC 9728 metadata pointing at an AS it controls, so
 * that people's consent — and the gateway's client secret at the token endpoint — go there. With
 * a configured issuer the gateway refuses an AS list that does not include it, and asks the
 * other AS nothing; metadata that speaks for another resource is refused too (RFC 9728 §3.3).
 */
describe('an upstream whose resource metadata names another authorization server', () => {
  let real: UpstreamAs;
  let rogue: UpstreamAs;
  let honest: PersonUpstream;
  let lying: PersonUpstream;
  let foreign: PersonUpstream;
  let guard: EgressGuard;

  before(async () => {
    real = await startUpstreamAs({ clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] });
    rogue = await startUpstreamAs({ clientSecret: 'rogue', redirectUris: [REDIRECT_URI] });
    honest = await startPersonUpstream({ issuer: real.issuer });
    lying = await startPersonUpstream({ issuer: real.issuer, authorizationServers: [rogue.issuer] });
    foreign = await startPersonUpstream({
      issuer: real.issuer,
      advertisedResource: 'http://127.0.0.1:9/someone-else',
    });
    for (const u of [honest, lying, foreign]) real.resources.add(u.url);
    guard = loopbackGuard();
  });
  after(async () => {
    for (const s of [honest, lying, foreign, real, rogue]) await s?.close();
    await guard?.close();
  });

  it('refuses when the metadata does not list the configured issuer, and never contacts the AS it names', async () => {
    const client = createUpstreamOAuthClient({ guard });
    const result = await client.beginAuthorization(
      settingsFor(lying.url, { issuer: real.issuer }),
      REDIRECT_URI,
    );
    assert.equal(!result.ok && result.reason, 'refused', JSON.stringify(result));
    assert.match(!result.ok ? result.detail : '', /not the configured issuer/);
    assert.equal(rogue.hits(), 0, 'the named AS was never asked anything');
    // Refresh and exchange go through the same discovery.
    const refresh = await client.refresh(settingsFor(lying.url, { issuer: real.issuer }), 'rt');
    assert.equal(!refresh.ok && refresh.reason, 'refused');
    assert.equal(rogue.hits(), 0);
  });

  it('refuses metadata that speaks for another resource', async () => {
    const client = createUpstreamOAuthClient({ guard });
    for (const issuer of [real.issuer, undefined]) {
      const result = await client.beginAuthorization(
        settingsFor(foreign.url, issuer ? { issuer } : {}),
        REDIRECT_URI,
      );
      assert.equal(!result.ok && result.reason, 'refused', JSON.stringify(result));
    }
  });

  it('the honest upstream, with the same configured issuer, connects', async () => {
    const client = createUpstreamOAuthClient({ guard });
    const result = await client.beginAuthorization(
      settingsFor(honest.url, { issuer: real.issuer }),
      REDIRECT_URI,
    );
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(new URL(result.value.url).origin, real.issuer);
  });
});
