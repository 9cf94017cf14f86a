import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapClaims } from './federation.js';

const config = { subjectClaim: 'email', tenantClaim: undefined, allowedDomains: [] as string[] };
const iss = 'https://idp.example';

describe('federated claims → account mapping', () => {
  it('names the account by the configured claim, with the tenant from its own claim or the name', () => {
    assert.deepEqual(mapClaims({ sub: 's1', email: 'ann@acme.example' }, config, iss), {
      ok: true,
      identity: { name: 'ann@acme.example', tenant: 'ann@acme.example', issuer: iss, subject: 's1' },
    });
    const withTenant = mapClaims(
      { sub: 's1', email: 'ann@acme.example', org: 'acme' },
      { ...config, tenantClaim: 'org' },
      iss,
    );
    assert.ok(withTenant.ok && withTenant.identity.tenant === 'acme');
  });

  it('refuses missing or unusable claims', () => {
    for (const claims of [{ sub: 's1' }, { email: 'a@b.example' }, { sub: 's1', email: 'has space@x' }]) {
      assert.deepEqual(mapClaims(claims, config, iss), { ok: false, reason: 'federation-claim-missing' });
    }
  });

  it('checks allowed domains only against a verified email', () => {
    const domains = { ...config, allowedDomains: ['acme.example'] };
    assert.ok(mapClaims({ sub: 's', email: 'a@ACME.example', email_verified: true }, domains, iss).ok);
    assert.deepEqual(mapClaims({ sub: 's', email: 'a@acme.example' }, domains, iss), {
      ok: false,
      reason: 'federation-email-unverified',
    });
    assert.deepEqual(mapClaims({ sub: 's', email: 'a@evil.example', email_verified: true }, domains, iss), {
      ok: false,
      reason: 'federation-domain-not-allowed',
    });
    assert.deepEqual(
      mapClaims({ sub: 's', email: 'a@acme.example.evil.example', email_verified: true }, domains, iss),
      {
        ok: false,
        reason: 'federation-domain-not-allowed',
      },
    );
  });
});
