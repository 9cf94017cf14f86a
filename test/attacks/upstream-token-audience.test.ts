import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createUpstreamOAuthClient } from '../../src/connections/upstream-oauth/index.js';
import type { UpstreamOAuthClient } from '../../src/connections/upstream-oauth-contract.js';
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
  statusWith,
  whoami,
} from '../helpers/upstream-oauth.js';

/**
 * A token minted for another resource. Two upstreams share one AS (as a company's services
 * do); a token the gateway holds for one must not work at the other, or a person's connection
 * to the harmless upstream would be a key to the sensitive one — and an upstream that sees the
 * token could replay it elsewhere. The gateway asks with `resource` (RFC 8707) so the AS binds
 * each token's `aud`; the upstream (the fixture's own check, as a real resource server does)
 * refuses a token whose `aud` is not itself.
 */
describe('an upstream token used at another upstream of the same AS', () => {
  let as: UpstreamAs;
  let files: PersonUpstream;
  let payroll: PersonUpstream;
  let guard: EgressGuard;
  let client: UpstreamOAuthClient;

  before(async () => {
    as = await startUpstreamAs({ clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] });
    files = await startPersonUpstream({ issuer: as.issuer });
    payroll = await startPersonUpstream({ issuer: as.issuer });
    as.resources.add(files.url);
    as.resources.add(payroll.url);
    guard = loopbackGuard();
    client = createUpstreamOAuthClient({ guard });
  });
  after(async () => {
    for (const s of [files, payroll, as]) await s?.close();
    await guard?.close();
  });

  it('the files token is bound to files and refused by payroll; it works at files', async () => {
    const settings = settingsFor(files.url);
    const begun = await client.beginAuthorization(settings, REDIRECT_URI);
    assert.ok(begun.ok);
    const callback = await testOnlySignIn(begun.value.url, REDIRECT_URI, { login: 'alice' });
    const tokens = await client.completeAuthorization(settings, begun.value.pending, callback);
    assert.ok(tokens.ok, JSON.stringify(tokens));
    assert.equal(decodeJwt(tokens.value.accessToken).aud, files.url, 'the gateway asked for this resource');

    assert.equal(await statusWith(payroll.url, tokens.value.accessToken), 401);
    const refused = payroll.calls.at(-1);
    assert.equal(refused?.outcome, 'invalid-token');
    assert.equal(refused?.error, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
    assert.equal(refused?.audience, files.url);

    assert.equal(await whoami(files.url, tokens.value.accessToken), UPSTREAM_SUBJECTS.alice);
    // And the refreshed token stays bound to files.
    const renewed = await client.refresh(settings, tokens.value.refreshToken!);
    assert.ok(renewed.ok, JSON.stringify(renewed));
    assert.equal(decodeJwt(renewed.value.accessToken).aud, files.url);
    assert.equal(await statusWith(payroll.url, renewed.value.accessToken), 401);
  });
});
