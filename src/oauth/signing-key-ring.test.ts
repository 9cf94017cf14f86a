import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { importJWK, SignJWT, jwtVerify } from 'jose';
import pino from 'pino';
import {
  openSigningKeyRing,
  signingKeyReference,
  watchSigningKeys,
  type SigningKeyRing,
} from './signing-key-ring.js';
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
    ring = await watchSigningKeys(file, { intervalMs: 3_600_000, logger });
    const heard: string[] = [];
    ring.onChange((keys) => heard.push(keys[0]!.kid));
    const fresh = generateSigningKey(new Date());
    writeSigningKeys(file, rotateSigningKeys([first], fresh, new Date(), 3_600_000));
    assert.equal(await ring.refresh(), true);
    assert.deepEqual(heard, [fresh.kid]);
    assert.equal(ring.keys()[0]!.kid, fresh.kid);
    await jwtVerify(await sign(first), ring.getKey);
    await jwtVerify(await sign(fresh), ring.getKey);
    assert.equal(await ring.refresh(), false, 'an unchanged file is not re-read');
  });

  it('a token naming a key it does not hold yet re-checks the file at once', async () => {
    const { file, first } = setup();
    ring = await watchSigningKeys(file, { intervalMs: 3_600_000, logger });
    const fresh = generateSigningKey(new Date());
    writeSigningKeys(file, rotateSigningKeys([first], fresh, new Date(), 3_600_000));
    const { protectedHeader } = await jwtVerify(await sign(fresh), ring.getKey);
    assert.equal(protectedHeader.kid, fresh.kid);
  });

  it('unknown key ids re-check the file at most once a second', async () => {
    const { file, first } = setup();
    let clock = 1_000_000;
    ring = await watchSigningKeys(file, { intervalMs: 3_600_000, logger, now: () => clock });
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
    ring = await watchSigningKeys(file, { intervalMs: 3_600_000, logger });
    fs.writeFileSync(file, '{"keys": [');
    assert.equal(await ring.refresh(), false);
    // A public key only (no `d`): not a signing key set, refused like a malformed one.
    const { d: _d, ...publicOnly } = generateSigningKey(new Date());
    fs.writeFileSync(file, JSON.stringify({ keys: [publicOnly] }));
    assert.equal(await ring.refresh(), false);
    assert.equal(ring.keys()[0]!.kid, first.kid);
    await jwtVerify(await sign(first), ring.getKey);
  });
});

describe('the signing key ring over a secret reference (keys.tokenSigning)', () => {
  let ring: SigningKeyRing | undefined;
  afterEach(() => ring?.close());
  const setText = (keys: StoredSigningKey[]) => JSON.stringify({ keys });

  it('env: reads the set once; the process environment cannot change under it', async () => {
    const first = generateSigningKey(new Date());
    const env = { PC_SIGNING: setText([first]) };
    ring = await openSigningKeyRing(signingKeyReference('env:PC_SIGNING', { env }), {
      intervalMs: 3_600_000,
      logger,
    });
    assert.equal(ring.keys()[0]!.kid, first.kid);
    env.PC_SIGNING = setText([generateSigningKey(new Date())]);
    assert.equal(await ring.refresh(), false);
    await jwtVerify(await sign(first), ring.getKey);
  });

  it('vault: is read again at each check, so a set rotated in the store signs without a restart; a malformed one keeps the keys', async () => {
    const first = generateSigningKey(new Date());
    let stored = setText([first]);
    let reads = 0;
    const server = http.createServer((req, res) => {
      const ok = req.headers['x-vault-token'] === 'root-token' && req.url === '/v1/secret/data/portcullis';
      if (ok) reads++;
      res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          ok ? { data: { data: { signing: stored }, metadata: { version: reads } } } : { errors: [] },
        ),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const env = {
        VAULT_ADDR: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        VAULT_TOKEN: 'root-token',
      };
      ring = await openSigningKeyRing(signingKeyReference('vault:secret/portcullis#signing', { env }), {
        intervalMs: 3_600_000,
        logger,
      });
      assert.equal(ring.keys()[0]!.kid, first.kid);
      assert.equal(await ring.refresh(), false, 'the same set is no change');
      const fresh = generateSigningKey(new Date());
      stored = setText(rotateSigningKeys([first], fresh, new Date(), 3_600_000));
      // A token signed with the new key makes the ring look at once.
      await jwtVerify(await sign(fresh), ring.getKey);
      assert.equal(ring.keys()[0]!.kid, fresh.kid);
      await jwtVerify(await sign(first), ring.getKey);
      stored = '{"keys": [';
      assert.equal(await ring.refresh(), false);
      assert.equal(ring.keys()[0]!.kid, fresh.kid);
      assert.ok(reads >= 3);
    } finally {
      server.close();
    }
  });

  it('a reference that does not hold a private ES256 set stops the start, naming the reference and not the value', async () => {
    const { d: _d, ...publicOnly } = generateSigningKey(new Date());
    for (const value of [JSON.stringify({ keys: [publicOnly] }), 'not json', '']) {
      await assert.rejects(
        openSigningKeyRing(signingKeyReference('env:PC_SIGNING', { env: { PC_SIGNING: value } }), {
          intervalMs: 3_600_000,
          logger,
        }),
        (err: Error) => /env:PC_SIGNING/.test(err.message) && !err.message.includes(publicOnly.x!),
      );
    }
  });

  it('a file: reference gets the key file checks: a file others can write is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-ring-ref-'));
    const file = path.join(dir, 'set.json');
    writeSigningKeys(file, [generateSigningKey(new Date())]);
    fs.chmodSync(file, 0o666);
    await assert.rejects(
      openSigningKeyRing(signingKeyReference(`file:${file}`, { env: {} }), { intervalMs: 3_600_000, logger }),
      /writable by group or others/,
    );
    fs.chmodSync(file, 0o600);
    ring = await openSigningKeyRing(signingKeyReference(`file:${file}`, { env: {} }), {
      intervalMs: 3_600_000,
      logger,
    });
    assert.equal(ring.keys().length, 1);
  });
});
