import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { postMcp, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

/**
 * External authorization server mode: the gateway trusts another issuer's JWTs through its JWKS
 * (fetched through the egress guard; loopback is allowed here only by the test's explicit
 * `allowAddresses`), applies the same checks, and serves no authorization server itself.
 */
describe('external authorization server mode', () => {
  let t: TestGateway;
  let jwks: http.Server;
  let issuer: string;
  const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  before(async () => {
    const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
    jwks = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    issuer = 'https://idp.example/realms/acme';
    t = await startTestGateway({
      env: { PORTCULLIS_RATE_LIMITS__FAILED_AUTH__POINTS: '1000' },
      config: [
        'oauth:',
        '  external:',
        `    issuer: ${issuer}`,
        `    jwksUri: ${base}/certs`,
        '    algorithms: [ES256]',
        '    tenantClaim: org',
        '    allowAddresses: ["127.0.0.1/32"]',
        '    allowHttp: true',
        '',
      ].join('\n'),
    });
  });
  after(async () => {
    await t.close();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  const token = (
    over: Record<string, unknown> = {},
    key = idp.privateKey,
    header: Record<string, unknown> = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: issuer,
      aud: t.url,
      sub: 'user-123',
      iat: now,
      exp: now + 300,
      scope: 'memory:read',
      azp: 'keycloak-client',
      org: 'acme',
      ...over,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'idp-1', ...header })
      .sign(key);
  };

  it('points clients at the external issuer and serves no authorization server', async () => {
    const prm = (await (
      await fetch(`${t.gw.url.origin}/.well-known/oauth-protected-resource/mcp`)
    ).json()) as any;
    assert.deepEqual(prm.authorization_servers, [issuer]);
    assert.equal((await fetch(`${t.gw.url.origin}/oauth/.well-known/openid-configuration`)).status, 404);
  });

  it('accepts a token from the external issuer, with its scopes and tenant', async () => {
    const res = await postMcp(t.url, list, { key: await token() });
    assert.equal(res.status, 200);
  });

  it('applies the same checks: key, audience, issuer, typ, expiry', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const bad of [
      await token({}, other.privateKey),
      await token({ aud: 'https://elsewhere.example/mcp' }),
      await token({ iss: 'https://idp.example/realms/other' }),
      await token({}, idp.privateKey, { typ: 'JWT' }),
      await token({ exp: now - 60, iat: now - 600 }),
    ]) {
      assert.equal((await postMcp(t.url, list, { key: bad })).status, 401);
    }
  });
});
