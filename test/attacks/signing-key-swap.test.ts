// Attack: replace the OAuth signing key file with a key set of one's own. Since today the
// gateway re-reads that file while it runs (every `keys.reloadSeconds`, and at once for a token
// naming an unknown key id), so whoever can swap the file mints tokens the running gateway
// accepts, with no restart. Nothing checked who could: a world-writable `keys.dir`, a key file
// writable by others, or a symlink into a world-writable directory all let any local user do it.
// Seen failing before the fix: the forged token verified after one `rename`, and a ring over a
// 0777 directory, a 0666 file or a symlink into /tmp-like space started without complaint.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import pino from 'pino';
import {
  generateSigningKey,
  rotateSigningKeys,
  watchSigningKeys,
  writeSigningKeys,
  type SigningKeyRing,
  type StoredSigningKey,
} from '../../src/oauth/index.js';

const logger = pino({ level: 'silent' });

async function sign(key: StoredSigningKey): Promise<string> {
  const { createdAt: _c, retiredAt: _r, ...jwk } = key;
  return new SignJWT({ sub: 'admin', scope: 'tools:call' })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuedAt()
    .sign(await importJWK(jwk, 'ES256'));
}

function keyDir(mode: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-keyswap-'));
  fs.chmodSync(dir, mode);
  const file = path.join(dir, 'signing-keys.json');
  const first = generateSigningKey(new Date());
  writeSigningKeys(file, [first]);
  return { dir, file, first };
}

/** What a local attacker does: write their own key set beside the file and rename it over. */
function swapIn(file: string, attacker: StoredSigningKey) {
  const tmp = `${file}.evil`;
  fs.writeFileSync(tmp, JSON.stringify({ keys: [attacker] }), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

describe('attack: swapping the signing key file under a running gateway', () => {
  let ring: SigningKeyRing | undefined;
  afterEach(() => {
    ring?.close();
    ring = undefined;
  });

  it('a key set swapped in through a directory others can write is not adopted', async () => {
    const { dir, file, first } = keyDir(0o700);
    ring = await watchSigningKeys(file, { intervalMs: 3_600_000, logger });
    fs.chmodSync(dir, 0o777); // a shared mount someone made world-writable after start
    const attacker = generateSigningKey(new Date());
    swapIn(file, attacker);
    // The unknown kid makes the ring look at the file at once: it must refuse what it finds.
    await assert.rejects(jwtVerify(await sign(attacker), ring.getKey), /no applicable key/i);
    assert.equal(await ring.refresh(), false);
    assert.equal(ring.keys()[0]!.kid, first.kid);
    await jwtVerify(await sign(first), ring.getKey);
  });

  it('a gateway does not start on a world-writable keys.dir, a file others can write or read, or a symlink into such a directory', async () => {
    const open = keyDir(0o777);
    await assert.rejects(
      () => watchSigningKeys(open.file, { intervalMs: 3_600_000, logger }),
      /writable by group or others/,
    );

    const loose = keyDir(0o700);
    fs.chmodSync(loose.file, 0o666);
    await assert.rejects(
      () => watchSigningKeys(loose.file, { intervalMs: 3_600_000, logger }),
      /writable by group or others/,
    );
    fs.chmodSync(loose.file, 0o644);
    await assert.rejects(
      () => watchSigningKeys(loose.file, { intervalMs: 3_600_000, logger }),
      /readable by others/,
    );

    const shared = keyDir(0o777);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-keyswap-home-'));
    const link = path.join(home, 'signing-keys.json');
    fs.symlinkSync(shared.file, link);
    await assert.rejects(
      () => watchSigningKeys(link, { intervalMs: 3_600_000, logger }),
      new RegExp(`${shared.dir} is writable`),
    );
  });

  it('the legitimate rotation beside it still reaches the running ring (0700 directory, 0600 file, 0440 secret mount)', async () => {
    const { file, first } = keyDir(0o700);
    ring = await watchSigningKeys(file, { intervalMs: 3_600_000, logger });
    const fresh = generateSigningKey(new Date());
    writeSigningKeys(file, rotateSigningKeys([first], fresh, new Date(), 3_600_000));
    await jwtVerify(await sign(fresh), ring.getKey);
    ring.close();
    fs.chmodSync(file, 0o440);
    ring = await watchSigningKeys(file, { intervalMs: 3_600_000, logger });
    await jwtVerify(await sign(first), ring.getKey);
    // A sticky shared directory (1777, like /tmp or a Secret volume's root) whose entry we own:
    // others cannot rename over it.
    ring.close();
    const sticky = keyDir(0o1777);
    ring = await watchSigningKeys(sticky.file, { intervalMs: 3_600_000, logger });
    await jwtVerify(await sign(sticky.first), ring.getKey);
  });
});
