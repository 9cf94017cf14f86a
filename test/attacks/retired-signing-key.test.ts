// Attack: keep minting access tokens with a signing key that was rotated out. An operator runs
// `keys rotate-signing` because the key leaked; the old key is marked retired and stays in the
// file so tokens it already signed still verify until they expire. It was dropped only at the
// *next* rotation, and verification never looked at `retiredAt`: whoever held the old private
// key could sign new tokens (fresh `iat`, any `exp`) that every replica accepted for as long as
// no second rotation happened — weeks, typically. (Leaving the `kid` out must not get around
// the check either: with the retired key out of the set, only the current key is tried.)
// Seen failing before the fix: a token signed with a key retired three hours earlier (retention
// one hour and a bit) verified, and so did a day-long token of a key whose retention ran out
// while the ring was running.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import pino from 'pino';
import {
  generateSigningKey,
  watchSigningKeys,
  writeSigningKeys,
  type SigningKeyRing,
  type StoredSigningKey,
} from '../../src/oauth/index.js';

const logger = pino({ level: 'silent' });
const HOUR = 3_600_000;

async function sign(key: StoredSigningKey, withKid = true, expires = '1h'): Promise<string> {
  const { createdAt: _c, retiredAt: _r, ...jwk } = key;
  return new SignJWT({ sub: 'admin', scope: 'tools:call' })
    .setProtectedHeader({ alg: 'ES256', ...(withKid ? { kid: key.kid } : {}) })
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(await importJWK(jwk, 'ES256'));
}

/** A key file as `keys rotate-signing` leaves it `retiredAgoMs` after the rotation. */
function rotatedFile(retiredAgoMs: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-retired-'));
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, 'signing-keys.json');
  const old = generateSigningKey(new Date(Date.now() - 30 * 24 * HOUR));
  const current = generateSigningKey(new Date(Date.now() - retiredAgoMs));
  const retired = { ...old, retiredAt: new Date(Date.now() - retiredAgoMs).toISOString() };
  writeSigningKeys(file, [current, retired]);
  return { file, current, retired };
}

describe('attack: a token signed with a retired signing key after its tokens expired', () => {
  let ring: SigningKeyRing | undefined;
  afterEach(() => ring?.close());
  // What rotate-signing keeps a retired key for: the longest token lifetime plus slack.
  const retiredKeyRetentionMs = HOUR + 120_000;

  it('is refused, with or without a kid', async () => {
    const { file, retired } = rotatedFile(3 * HOUR);
    ring = await watchSigningKeys(file, { intervalMs: HOUR, logger, retiredKeyRetentionMs });
    await assert.rejects(jwtVerify(await sign(retired), ring.getKey), 'a retired key past its retention');
    await assert.rejects(jwtVerify(await sign(retired, false), ring.getKey), 'the same without a kid');
  });

  it('a key that retires past its retention while the gateway runs stops verifying then', async () => {
    let now = Date.now();
    const { file, retired } = rotatedFile(HOUR);
    ring = await watchSigningKeys(file, { intervalMs: HOUR, logger, retiredKeyRetentionMs, now: () => now });
    // Minted with the leaked key, valid for a day as far as its own claims go.
    const token = await sign(retired, true, '24h');
    await jwtVerify(token, ring.getKey, { currentDate: new Date(now) });
    now += 2 * HOUR;
    await assert.rejects(jwtVerify(token, ring.getKey, { currentDate: new Date(now) }));
  });

  it('the legitimate use beside it: tokens of a key retired moments ago, and of the current key, verify', async () => {
    const { file, current, retired } = rotatedFile(60_000);
    ring = await watchSigningKeys(file, { intervalMs: HOUR, logger, retiredKeyRetentionMs });
    await jwtVerify(await sign(retired), ring.getKey);
    await jwtVerify(await sign(current), ring.getKey);
  });
});
