// Attack: keep using a leaked signing key after the operator replaced it in the key set under
// the same kid. Sets written by hand or by other tooling into a secret store often give the key
// a fixed kid ("main", "current"); replacing a leaked key then changes the material and keeps
// the kid. The ring compared only the kids (and retired marks) of the old and new set, saw no
// change, and kept the old keys: every running replica went on verifying tokens minted with the
// leaked private key (and signing with it, and the redactor never learnt the new private part)
// until it was restarted — while the operator believed the reload had taken the key out.
// Seen failing before the fix: after the replacement, refresh() answered false and a token
// signed with the leaked key still verified.
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

async function sign(key: StoredSigningKey): Promise<string> {
  const { createdAt: _c, retiredAt: _r, ...jwk } = key;
  return new SignJWT({ sub: 'admin', scope: 'tools:call' })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(await importJWK(jwk, 'ES256'));
}

/** A key with a fixed kid, as a hand-written set names it. */
const keyNamed = (kid: string): StoredSigningKey => ({ ...generateSigningKey(new Date()), kid });

function keyFile(keys: StoredSigningKey[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-same-kid-'));
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, 'signing-keys.json');
  writeSigningKeys(file, keys);
  return file;
}

describe('attack: a leaked signing key replaced under the same kid', () => {
  let ring: SigningKeyRing | undefined;
  afterEach(() => ring?.close());

  it('stops verifying once the set is reloaded, and the new key is heard by listeners', async () => {
    const leaked = keyNamed('main');
    const file = keyFile([leaked]);
    ring = await watchSigningKeys(file, { intervalMs: HOUR, logger });
    const heard: string[] = [];
    ring.onChange((keys) => heard.push(...keys.map((k) => String(k.d))));
    await jwtVerify(await sign(leaked), ring.getKey);

    const replacement = keyNamed('main');
    writeSigningKeys(file, [replacement]);
    assert.equal(await ring.refresh(), true, 'the new material is a new key set');
    await assert.rejects(jwtVerify(await sign(leaked), ring.getKey), 'the leaked key no longer verifies');
    await jwtVerify(await sign(replacement), ring.getKey);
    assert.deepEqual(ring.keys(), [replacement]);
    assert.deepEqual(heard, [replacement.d], 'the redactor learns the new private part');
  });

  it('the legitimate use beside it: rewriting the same set changes nothing', async () => {
    const current = keyNamed('main');
    const file = keyFile([current]);
    ring = await watchSigningKeys(file, { intervalMs: HOUR, logger });
    let changes = 0;
    ring.onChange(() => changes++);
    writeSigningKeys(file, [{ ...current }]);
    assert.equal(await ring.refresh(), false);
    assert.equal(changes, 0);
    await jwtVerify(await sign(current), ring.getKey);
  });
});
