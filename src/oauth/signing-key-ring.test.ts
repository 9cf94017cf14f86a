import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { importJWK, SignJWT, jwtVerify } from 'jose';
import pino from 'pino';
import { watchSigningKeys, type SigningKeyRing } from './signing-key-ring.js';
import {
  generateSigningKey,
  rotateSigningKeys,
  writeSigningKeys,
  type StoredSigningKey,
} from './signing-keys.js';

const logger = pino({ level: 'silent' });

async function sign(key: StoredSigningKey): Promise<string> {
  const { createdAt: _c, retiredAt: _r, ...jwk } = key;
  return new SignJWT({ sub: 'alice' })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuedAt()
    .sign(await importJWK(jwk, 'ES256'));
}

describe('the signing key ring', () => {
  let ring: SigningKeyRing | undefined;
  afterEach(() => ring?.close());

  const setup = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-ring-'));
    const file = path.join(dir, 'signing-keys.json');
    const first = generateSigningKey(new Date());
    writeSigningKeys(file, [first]);
    return { file, first };
  };

  it('picks up a rotation made by another process, and keeps verifying the old key', async () => {
    const { file, first } = setup();
    ring = watchSigningKeys(file, { intervalMs: 3_600_000, logger });
    const heard: string[] = [];
    ring.onChange((keys) => heard.push(keys[0]!.kid));
    const fresh = generateSigningKey(new Date());
    writeSigningKeys(file, rotateSigningKeys([first], fresh, new Date(), 3_600_000));
    assert.equal(ring.refresh(), true);
    assert.deepEqual(heard, [fresh.kid]);
    assert.equal(ring.keys()[0]!.kid, fresh.kid);
    await jwtVerify(await sign(first), ring.getKey);
    await jwtVerify(await sign(fresh), ring.getKey);
    assert.equal(ring.refresh(), false, 'an unchanged file is not re-read');
  });

  it('a token naming a key it does not hold yet re-checks the file at once', async () => {
    const { file, first } = setup();
    ring = watchSigningKeys(file, { intervalMs: 3_600_000, logger });
    const fresh = generateSigningKey(new Date());
    writeSigningKeys(file, rotateSigningKeys([first], fresh, new Date(), 3_600_000));
    const { protectedHeader } = await jwtVerify(await sign(fresh), ring.getKey);
    assert.equal(protectedHeader.kid, fresh.kid);
  });

  it('unknown key ids re-check the file at most once a second', async () => {
    const { file, first } = setup();
    let clock = 1_000_000;
    ring = watchSigningKeys(file, { intervalMs: 3_600_000, logger, now: () => clock });
    const later = generateSigningKey(new Date());
    const token = await sign(later);
    await assert.rejects(jwtVerify(token, ring.getKey), /no applicable key/i);
    // The key appears in the file; within the same second a flood of such tokens does not make
    // the ring look again, so it is still refused...
    writeSigningKeys(file, rotateSigningKeys([first], later, new Date(), 3_600_000));
    clock += 500;
    for (let i = 0; i < 20; i++) await assert.rejects(jwtVerify(token, ring.getKey), /no applicable key/i);
    // ...and a second later it verifies.
    clock += 501;
    await jwtVerify(token, ring.getKey);
  });

  it('a half-written or forged file keeps the keys in use', async () => {
    const { file, first } = setup();
    ring = watchSigningKeys(file, { intervalMs: 3_600_000, logger });
    fs.writeFileSync(file, '{"keys": [');
    assert.equal(ring.refresh(), false);
    // A public key only (no `d`): not a signing key set, refused like a malformed one.
    const { d: _d, ...publicOnly } = generateSigningKey(new Date());
    fs.writeFileSync(file, JSON.stringify({ keys: [publicOnly] }));
    assert.equal(ring.refresh(), false);
    assert.equal(ring.keys()[0]!.kid, first.kid);
    await jwtVerify(await sign(first), ring.getKey);
  });
});
