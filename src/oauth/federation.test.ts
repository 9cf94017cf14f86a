import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapClaims, mapRole } from './federation.js';

type Rules = Parameters<typeof mapRole>[1];
const config = {
  subjectClaim: 'email',
  tenantClaim: undefined as string | undefined,
  allowedDomains: [] as string[],
  roles: [] as Rules,
};
const iss = 'https://idp.example';

describe('federated claims → account mapping', () => {
  it('names the account by the configured claim, with the tenant from its own claim or the name', () => {
    assert.deepEqual(mapClaims({ sub: 's1', email: 'ann@acme.example', email_verified: true }, config, iss), {
      ok: true,
      identity: {
        name: 'ann@acme.example',
        tenant: 'ann@acme.example',
        issuer: iss,
        subject: 's1',
        role: null,
      },
    });
    const withTenant = mapClaims(
      { sub: 's1', email: 'ann@acme.example', email_verified: true, org: 'acme' },
      { ...config, tenantClaim: 'org' },
      iss,
    );
    assert.ok(withTenant.ok && withTenant.identity.tenant === 'acme');
  });

  it('refuses missing or unusable claims', () => {
    for (const claims of [
      { sub: 's1' },
      { email: 'a@b.example', email_verified: true },
      { sub: 's1', email: 'has space@x', email_verified: true },
    ]) {
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

  it('takes an email as the account name or tenant only when the identity provider verified it', () => {
    for (const verified of [undefined, false, 'true']) {
      assert.deepEqual(
        mapClaims({ sub: 's', email: 'ceo@acme.example', email_verified: verified }, config, iss),
        {
          ok: false,
          reason: 'federation-email-unverified',
        },
      );
    }
    const byTenant = { ...config, subjectClaim: 'preferred_username', tenantClaim: 'email' };
    assert.deepEqual(
      mapClaims({ sub: 's', preferred_username: 'ann', email: 'x@acme.example' }, byTenant, iss),
      {
        ok: false,
        reason: 'federation-email-unverified',
      },
    );
    const bySub = { ...config, subjectClaim: 'sub' };
    assert.ok(
      mapClaims({ sub: 'ann-1', email: 'x@acme.example' }, bySub, iss).ok,
      'email unused: not needed',
    );
  });

  it('maps claims to the role of the first rule that matches, list claims by membership', () => {
    const rules: Rules = [
      { claim: 'groups', equals: 'mcp-admins', role: 'admin' },
      { claim: 'email', equals: 'boss@acme.example', role: 'admin' },
      { claim: 'email_verified', equals: true, role: 'member' },
    ];
    assert.equal(mapRole({ groups: ['staff', 'mcp-admins'], email_verified: true }, rules), 'admin');
    assert.equal(mapRole({ groups: 'mcp-admins' }, rules), 'admin');
    assert.equal(mapRole({ groups: ['staff'], email_verified: true }, rules), 'member');
    assert.equal(mapRole({ groups: ['staff'] }, rules), null, 'no rule matches: no role');
    assert.equal(mapRole({ email: 'boss@acme.example' }, rules), null, 'an unverified email matches no rule');
    assert.equal(mapRole({ email: 'boss@acme.example', email_verified: true }, rules), 'admin');
    const mapped = mapClaims(
      { sub: 's', email: 'ann@acme.example', email_verified: true, groups: ['mcp-admins'] },
      { ...config, roles: rules },
      iss,
    );
    assert.ok(mapped.ok && mapped.identity.role === 'admin');
  });
});
