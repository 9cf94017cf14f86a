import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, exportJWK, SignJWT } from 'jose';
import { verifyAccessToken, type VerifyOptions } from './verify-access-token.js';

const now = new Date('2026-03-01T12:00:00Z');
const t = Math.floor(now.getTime() / 1000);
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

async function options(over: Partial<VerifyOptions> = {}): Promise<VerifyOptions> {
  return {
    keys: createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }),
    algorithms: ['ES256'],
    issuer: 'https://gw.example/oauth',
    audience: 'https://gw.example/mcp',
    requireTyp: true,
    clockToleranceSeconds: 5,
    requiredClaims: ['iat', 'jti', 'client_id'],
    scopeClaim: 'scope',
    tenantClaim: 'tenant',
    ...over,
  };
}

const claims = {
  iss: 'https://gw.example/oauth',
  aud: 'https://gw.example/mcp',
  sub: 'alice',
  client_id: 'c1',
  jti: 'j1',
  iat: t - 10,
  exp: t + 290,
  scope: 'memory:read memory:write',
  grant_id: 'g1',
  tenant: 'acme',
};
const sign = (over: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  new SignJWT({ ...claims, ...over })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', ...header })
    .sign(privateKey);

describe('verifyAccessToken (frozen clock)', () => {
  it('returns the claims the gateway acts on', async () => {
    const r = await verifyAccessToken(await sign(), await options(), now);
    assert.ok(r.ok);
    assert.equal(r.token.subject, 'alice');
    assert.equal(r.token.clientId, 'c1');
    assert.deepEqual([...r.token.scopes], ['memory:read', 'memory:write']);
    assert.equal(r.token.grantId, 'g1');
    assert.equal(r.token.tenant, 'acme');
    assert.deepEqual(r.token.expiresAt, new Date((t + 290) * 1000));
  });

  const cases: [string, () => Promise<string>, string][] = [
    ['an expired token', () => sign({ exp: t - 6 }), 'token-expired'],
    ['nbf beyond the tolerance', () => sign({ nbf: t + 6 }), 'token-not-yet-valid'],
    ['iat beyond the tolerance', () => sign({ iat: t + 6 }), 'token-issued-in-future'],
    ['another issuer', () => sign({ iss: 'https://evil.example' }), 'token-wrong-issuer'],
    ['another audience', () => sign({ aud: 'https://gw.example/other' }), 'token-wrong-audience'],
    ['typ JWT', () => sign({}, { typ: 'JWT' }), 'token-wrong-type'],
    ['no jti', () => sign({ jti: undefined }), 'token-claims-missing'],
    ['no client_id', () => sign({ client_id: undefined }), 'token-claims-missing'],
    ['a non-string scope', () => sign({ scope: ['memory:read'] }), 'token-claims-missing'],
    ['an unknown kid', () => sign({}, { kid: 'k2' }), 'token-key-unknown'],
    ['an embedded jwk', () => sign({}, { jwk: { kty: 'EC' } }), 'token-header-forbidden'],
    ['a jku', () => sign({}, { jku: 'https://evil.example/jwks' }), 'token-header-forbidden'],
    ['garbage', async () => 'not.a.jwt', 'token-malformed'],
    ['two parts', async () => (await sign()).split('.').slice(0, 2).join('.'), 'token-malformed'],
  ];
  for (const [what, token, reason] of cases) {
    it(`refuses ${what} as ${reason}`, async () => {
      const r = await verifyAccessToken(await token(), await options(), now);
      assert.equal(r.ok ? 'ok' : r.reason, reason);
    });
  }

  it('accepts skew within the tolerance, and never none or HS* even when configured', async () => {
    assert.ok((await verifyAccessToken(await sign({ nbf: t + 4, iat: t + 4 }), await options(), now)).ok);
    const r = await verifyAccessToken(await sign(), await options({ algorithms: ['none', 'HS256'] }), now);
    assert.equal(r.ok ? 'ok' : r.reason, 'token-alg-not-allowed');
  });
});
