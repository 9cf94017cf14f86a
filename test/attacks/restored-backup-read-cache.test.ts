import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { authenticate, createApiKey } from '../../src/auth/index.js';
import { openSqliteStorage, type Storage } from '../../src/storage/index.js';
import { tempDir } from '../helpers/gateway.js';

/**
 * Attack: make the read caches' revision tag come back to a value the gateway has already seen,
 * over different rows. The caches (storage/sqlite/revision-cache.ts) trust their copy while the
 * table's tag is unchanged. If the tag were a plain counter, restoring an older backup into the
 * live file (sqlite3 `.restore`, the incident playbook's first step) sets it back, and the next
 * few changes count it up to the very number the gateway holds — over different rows. Here the
 * operator restores, then revokes the leaked key: the counter lands where the cache stood, and
 * the gateway kept answering the revoked key from memory.
 */
describe('attack: a restored backup brings the revision tag back to a value the cache holds', () => {
  let dir: string;
  let file: string;
  let gateway: Storage;
  before(() => {
    dir = tempDir();
    file = path.join(dir, 'portcullis.db');
    gateway = openSqliteStorage(file);
  });
  after(async () => {
    await gateway.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const call = (key: string) =>
    authenticate(
      { authorization: `Bearer ${key}`, url: new URL('http://127.0.0.1/mcp') },
      { apiKeys: gateway.apiKeys, now: new Date() },
    );

  it('a key revoked after a restore is refused on its next call; a key the backup holds still works', async () => {
    const leaked = await createApiKey(
      gateway.apiKeys,
      { owner: 'sam', label: 'leaked', scopes: ['memory:read'], expiresAt: null },
      new Date(),
    );
    const backup = path.join(dir, 'backup.db');
    {
      const raw = new Database(file);
      await raw.backup(backup);
      raw.close();
    }
    // After the backup: one more change (a new key), and the gateway serves the leaked key.
    await createApiKey(
      gateway.apiKeys,
      { owner: 'kim', label: 'later', scopes: [], expiresAt: null },
      new Date(),
    );
    assert.equal((await call(leaked.key)).ok, true);
    assert.equal((await call(leaked.key)).ok, true); // now from memory

    // The operator restores the backup into the live file, then revokes the leaked key.
    {
      const old = new Database(backup);
      await old.backup(file);
      old.close();
      const cli = new Database(file);
      cli.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(Date.now(), leaked.record.id);
      cli.close();
    }
    assert.deepEqual(await call(leaked.key), {
      ok: false,
      reason: 'credential-revoked',
      credentialId: leaked.record.id,
    });

    // Legitimate use beside it: a key in the backup, untouched, still authenticates.
    const kept = await createApiKey(
      gateway.apiKeys,
      { owner: 'lee', label: 'kept', scopes: ['memory:read'], expiresAt: null },
      new Date(),
    );
    assert.equal((await call(kept.key)).ok, true);
    assert.equal((await call(kept.key)).ok, true);
  });
});

/**
 * Attack: lose the triggers. SQLite drops a table's triggers with it, so a migration that rebuilds
 * `api_keys` (create, copy, drop, rename: the usual way to change a column) leaves the counter
 * still forever, and every revocation after it would go unheard by a running cache. Opening the
 * store must refuse that file rather than serve it from memory.
 */
describe('attack: a table rebuilt without its revision triggers', () => {
  it('the store refuses to open; an intact file opens and sees a revocation', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'portcullis.db');
      const intact = openSqliteStorage(file);
      const { record, key } = await createApiKey(
        intact.apiKeys,
        { owner: 'sam', label: 'x', scopes: [], expiresAt: null },
        new Date(),
      );
      await intact.apiKeys.findById(record.id);
      await intact.apiKeys.revoke(record.id, new Date());
      assert.ok((await intact.apiKeys.findById(record.id))?.revokedAt);
      await intact.close();
      assert.ok(key);

      const raw = new Database(file);
      const ddl = raw
        .prepare<[], string>("SELECT sql FROM sqlite_master WHERE name = 'api_keys'")
        .pluck()
        .get()!;
      raw.exec(`${ddl.replace(/CREATE TABLE\s+"?api_keys"?/, 'CREATE TABLE api_keys_new')};
        INSERT INTO api_keys_new SELECT * FROM api_keys;
        DROP TABLE api_keys;
        ALTER TABLE api_keys_new RENAME TO api_keys;`);
      raw.close();
      assert.throws(() => openSqliteStorage(file), /lost its api_keys_revision_on_\w+ trigger/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
