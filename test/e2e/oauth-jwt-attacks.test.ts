import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { base64url, exportJWK, importJWK, SignJWT, type JWK } from 'jose';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addClient, openOAuthTables } from '../helpers/oauth-gateway.js';

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const enc = (v: unknown) => base64url.encode(JSON.stringify(v));

/** A token from raw parts, for attacks no JWT library will produce. */
const raw = (header: object, payload: object, signature = '') =>
  `${enc(header)}.${enc(payload)}.${signature}`;

describe('JWT attacks against /mcp: every one is refused with 401 invalid_token', () => {
  let t: TestGateway;
  let db: OAuthDatabase;
  let valid: string;
  let ourKey: Awaited<ReturnType<typeof importJWK>>;
  let ourKid: string;
  let ourPublicPem: string;
  let claims: Record<string, unknown>;
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let attackerJwk: JWK;

  before(async () => {
    // Every attack is a failed authentication from 127.0.0.1; the brute-force limit would
    // otherwise answer 429 before the battery is through.
    t = await startTestGateway({ env: { PORTCULLIS_RATE_LIMITS__FAILED_AUTH__POINTS: '10000' } });
    db = openOAuthTables(t);
    const client = await addClient(db, { grant: 'client_credentials', scopes: ['memory:read'] });
    const res = await fetch(`${t.gw.url.origin}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'memory:read', resource: t.url }),
    });
    assert.equal(res.status, 200);
    valid = ((await res.json()) as { access_token: string }).access_token;
    claims = JSON.parse(Buffer.from(valid.split('.')[1]!, 'base64url').toString());
    const stored = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'keys', 'signing-keys.json'), 'utf8'))
      .keys[0];
    ourKid = stored.kid;
    ourKey = await importJWK({ ...stored, createdAt: undefined }, 'ES256');
    ourPublicPem = createPublicKey({ key: { ...stored, d: undefined }, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    attackerJwk = await exportJWK(attacker.publicKey);
  });
  after(async () => {
    await db.close();
    await t.close();
  });

  /** Signs claims (the valid token's, with overrides) with our real signing key. */
  const signOurs = (over: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    new SignJWT({ ...claims, ...over })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: ourKid, ...header })
      .sign(ourKey);
  const signAttacker = (header: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header })
      .sign(attacker.privateKey);

  async function assertRefused(token: string, url = t.url) {
    const res = await postMcp(url, list, { key: token });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate')!, /error="invalid_token"/);
    assert.equal((await readRpc(res)).error?.message, 'Invalid credential.');
  }

  it('the untampered token works (control)', async () => {
    const res = await postMcp(t.url, list, { key: valid });
    assert.equal(res.status, 200);
  });

  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    it(`alg "${alg}" with no signature`, async () => {
      await assertRefused(raw({ alg, typ: 'at+jwt', kid: ourKid }, claims));
    });
  }

  it('HS256 signed with our public key as the HMAC secret', async () => {
    for (const secret of [ourPublicPem, JSON.stringify(await exportJWK(createPublicKey(ourPublicPem)))]) {
      const header = { alg: 'HS256', typ: 'at+jwt', kid: ourKid };
      const input = `${enc(header)}.${enc(claims)}`;
      const sig = createHmac('sha256', secret).update(input).digest('base64url');
      await assertRefused(`${input}.${sig}`);
    }
  });

  it('an embedded jwk header naming the attacker key', async () => {
    await assertRefused(await signAttacker({ jwk: attackerJwk, kid: ourKid }));
    await assertRefused(await signAttacker({ jwk: attackerJwk }));
  });

  it('jku and x5u pointing at another URL', async () => {
    await assertRefused(await signAttacker({ jku: 'https://attacker.example/jwks.json', kid: 'a1' }));
    await assertRefused(await signAttacker({ x5u: 'https://attacker.example/cert.pem', kid: 'a1' }));
  });

  it('kid path traversal', async () => {
    for (const kid of [
      '../../../../etc/passwd',
      '../keys/signing-keys.json',
      `${ourKid}/../x`,
      "' OR '1'='1",
    ]) {
      await assertRefused(await signAttacker({ kid }));
    }
  });

  it('wrong audience, wrong issuer, wrong typ', async () => {
    await assertRefused(await signOurs({ aud: 'https://other.example/mcp' }));
    await assertRefused(await signOurs({ aud: [t.url.replace('/mcp', '/other'), 'https://x.example'] }));
    await assertRefused(await signOurs({ iss: 'https://attacker.example/oauth' }));
    await assertRefused(await signOurs({}, { typ: 'JWT' }));
    await assertRefused(await signOurs({}, { typ: undefined }));
  });

  it('expired, not yet valid, and issued in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    await assertRefused(await signOurs({ iat: now - 7200, exp: now - 3600 }));
    await assertRefused(await signOurs({ nbf: now + 3600 }));
    await assertRefused(await signOurs({ iat: now + 3600, exp: now + 7200 }));
  });

  it('missing required claims', async () => {
    for (const claim of ['sub', 'client_id', 'jti', 'exp', 'iat']) {
      await assertRefused(await signOurs({ [claim]: undefined }));
    }
  });

  it('a tampered payload and a stripped signature', async () => {
    const [h, , s] = valid.split('.');
    await assertRefused(`${h}.${enc({ ...claims, scope: 'memory:read memory:write memory:delete' })}.${s}`);
    await assertRefused(`${h}.${valid.split('.')[1]}.`);
    await assertRefused(`${h}.${valid.split('.')[1]}`);
  });

  it('a token signed by an unknown key, even one claiming our kid', async () => {
    await assertRefused(await signAttacker({ kid: ourKid }));
    await assertRefused(await signAttacker({ kid: 'unknown' }));
  });

  it('a token issued for another resource', async () => {
    const client = await addClient(db, { grant: 'client_credentials', scopes: ['memory:read'] });
    const other = await fetch(`${t.gw.url.origin}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'memory:read',
        resource: 'https://other.example/mcp',
      }),
    });
    assert.equal(other.status, 400);
    assert.equal(((await other.json()) as { error: string }).error, 'invalid_target');
    await assertRefused(await signOurs({ aud: 'https://other.example/mcp' }));
  });

  it('a valid token in the query string', async () => {
    await assertRefused(valid, `${t.url}?access_token=${valid}`);
  });
});
