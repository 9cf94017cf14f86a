import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openMemoryStorage, openPostgresStorage, openSqliteStorage } from '../storage/index.js';
import { createPgTestSchema } from '../storage/index.js';
import { isConnectionError } from './errors.js';
import { createVault, kekId, openVault, parseKek, rewrapVault } from './vault.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const now = new Date(1_000);
const alice = { tenant: 'acme', subject: 'alice', upstream: 'crm', connectionId: 'conn_a' };

describe('the connections vault', () => {
  it('seals and opens a value for its own binding only', () => {
    const vault = createVault('dk1', randomBytes(32));
    const sealed = vault.seal('sk-live-alice', alice);
    assert.match(sealed, /^v1\.dk1\./);
    assert.ok(!sealed.includes('sk-live-alice'));
    assert.equal(vault.open(sealed, alice), 'sk-live-alice');
    for (const other of [
      { ...alice, subject: 'bob' },
      { ...alice, tenant: 'evil' },
      { ...alice, upstream: 'github' },
      { ...alice, connectionId: 'conn_b' },
    ]) {
      assert.throws(
        () => vault.open(sealed, other),
        (e) => isConnectionError(e) && e.code === 'vault-open-failed',
      );
    }
    assert.notEqual(vault.seal('x', alice), vault.seal('x', alice), 'a fresh IV every time');
  });

  it('refuses a tampered value', () => {
    const vault = createVault('dk1', randomBytes(32));
    const parts = vault.seal('secret', alice).split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    assert.throws(() => vault.open(parts.join('.'), alice), /cannot be opened/);
  });

  it('makes its data key on first open and opens it again with the same KEK', async () => {
    const store = openMemoryStorage().connections;
    const kek = randomBytes(32);
    const first = await openVault(store, kek, now);
    const sealed = first.seal('v', alice);
    const again = await openVault(store, kek, now);
    assert.equal(again.dataKeyId, first.dataKeyId);
    assert.equal(again.open(sealed, alice), 'v');
    assert.equal((await store.dataKeys()).length, 1);
  });

  it('two replicas opening an empty vault at once on PostgreSQL agree on one data key', async () => {
    const db = await createPgTestSchema();
    const replicas = [await openPostgresStorage(db.config), await openPostgresStorage(db.config)];
    try {
      // Warm each pool, as on running replicas, so the two starts really overlap.
      for (const r of replicas)
        await Promise.all(
          [1, 2, 3, 4].map(() => Promise.all([r.connections.dataKeys(), r.connections.update('-', {})])),
        );
      const kek = randomBytes(32);
      const [a, b] = await Promise.all(replicas.map((r) => openVault(r.connections, kek, now)));
      assert.equal(a!.dataKeyId, b!.dataKeyId);
      assert.equal(b!.open(a!.seal('v', alice), alice), 'v', 'what one replica seals the other opens');
      assert.equal((await replicas[0]!.connections.dataKeys()).length, 1);
    } finally {
      for (const r of replicas) await r.close();
      await db.drop();
    }
  });

  it('fails closed with a clear error under a wrong KEK, and makes no second data key', async () => {
    const store = openMemoryStorage().connections;
    await openVault(store, randomBytes(32), now);
    const wrong = randomBytes(32);
    await assert.rejects(
      openVault(store, wrong, now),
      (e) =>
        isConnectionError(e) &&
        e.code === 'vault-key-wrong' &&
        e.publicMessage.includes(kekId(wrong)) &&
        /does not open the connections vault/.test(e.publicMessage),
    );
    assert.equal((await store.dataKeys()).length, 1);
  });

  it('rotation keeps every sealed value working, under either KEK until the old wraps are retired', async () => {
    const store = openMemoryStorage().connections;
    const oldKek = randomBytes(32);
    const newKek = randomBytes(32);
    const vault = await openVault(store, oldKek, now);
    const sealed = [vault.seal('one', alice), vault.seal('two', { ...alice, subject: 'bob' })];
    await rewrapVault(store, oldKek, newKek, now);
    for (const kek of [oldKek, newKek]) {
      const v = await openVault(store, kek, now);
      assert.equal(v.open(sealed[0]!, alice), 'one');
      assert.equal(v.open(sealed[1]!, { ...alice, subject: 'bob' }), 'two');
    }
    await store.retireDataKeys(kekId(newKek));
    await assert.rejects(openVault(store, oldKek, now), /does not open/);
    assert.equal((await openVault(store, newKek, now)).open(sealed[0]!, alice), 'one');
  });

  it('the database file holds no plaintext credential', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-vault-'));
    dirs.push(dir);
    const file = path.join(dir, 'core.db');
    const storage = openSqliteStorage(file);
    const kek = randomBytes(32);
    const vault = await openVault(storage.connections, kek, now);
    const secret = `sk-${randomBytes(16).toString('hex')}`;
    await storage.connections.put({
      id: 'conn_a',
      tenant: 'acme',
      subject: 'alice',
      upstream: 'crm',
      mode: 'person-secret',
      state: 'connected',
      upstreamSubject: null,
      scopes: [],
      createdAt: now,
      lastUsedAt: null,
      expiresAt: null,
      brokenReason: null,
      sealed: vault.seal(secret, alice),
    });
    await storage.close();
    const bytes = Buffer.concat(
      fs
        .readdirSync(dir)
        .filter((f) => f.startsWith('core.db'))
        .map((f) => fs.readFileSync(path.join(dir, f))),
    );
    assert.ok(bytes.includes(Buffer.from('conn_a')), 'the row is in the file');
    assert.ok(!bytes.includes(Buffer.from(secret)), 'the secret is not');
    assert.ok(!bytes.includes(Buffer.from(secret.slice(3, 19))), 'not even a part of it');
    assert.ok(!bytes.includes(kek), 'nor the KEK');
  });

  it('reads a KEK as hex or base64 of exactly 32 bytes', () => {
    const k = randomBytes(32);
    assert.deepEqual(parseKek(k.toString('hex'), 'x'), k);
    assert.deepEqual(parseKek(k.toString('base64'), 'x'), k);
    assert.deepEqual(parseKek(`${k.toString('base64url')}\n`, 'x'), k);
    assert.throws(() => parseKek('short', 'env:KEK'), /env:KEK\) must be 32 bytes/);
    assert.throws(() => parseKek(randomBytes(16).toString('hex'), 'x'), /32 bytes/);
  });
});
