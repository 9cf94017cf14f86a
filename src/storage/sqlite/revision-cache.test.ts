import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { migrate } from '../../migrate/index.js';
import { CORE_SCHEMA } from './migrations.js';
import { createRevisionCache } from './revision-cache.js';

describe('revision cache', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revision-cache-'));
  const file = path.join(dir, 'test.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(db, CORE_SCHEMA);
  const read = new Database(file, { readonly: true });
  after(() => {
    read.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const insertKey = (id: string) =>
    db
      .prepare(
        `INSERT INTO api_keys (id, hash, owner, tenant, label, scopes, created_at) VALUES (?, 'h', 'o', 't', '', '[]', 0)`,
      )
      .run(id);

  it('serves a value until any change to the table commits, then loads it again', () => {
    const cache = createRevisionCache<number>(read, 'api_keys_revision');
    let loads = 0;
    const get = () => cache.get('k', () => ++loads);
    assert.equal(get(), 1);
    assert.equal(get(), 1);
    insertKey('a');
    assert.equal(get(), 2);
    db.prepare('UPDATE api_keys SET revoked_at = 1').run();
    assert.equal(get(), 3);
    db.prepare('DELETE FROM api_keys').run();
    assert.equal(get(), 4);
  });

  it('a key’s last use alone leaves the cache as it is; patch keeps this process’s copy current', () => {
    insertKey('b');
    const cache = createRevisionCache<{ lastUsed: number }>(read, 'api_keys_revision');
    cache.get('b', () => ({ lastUsed: 0 }));
    db.prepare('UPDATE api_keys SET last_used_at = 5').run();
    cache.patch('b', () => ({ lastUsed: 5 }));
    assert.deepEqual(
      cache.get('b', () => ({ lastUsed: -1 })),
      { lastUsed: 5 },
    );
  });

  it('every api_keys column but last_used_at moves the counter (a new column must join the trigger)', () => {
    const columns = db
      .prepare<[], { name: string }>('PRAGMA table_info(api_keys)')
      .all()
      .map((c) => c.name);
    const trigger = db
      .prepare<[], { sql: string }>(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'api_keys_revision_on_update'",
      )
      .get()!.sql;
    const followed = /UPDATE OF ([^)]*?) ON api_keys/
      .exec(trigger)![1]!
      .split(',')
      .map((c) => c.trim());
    assert.deepEqual(columns.filter((c) => c !== 'last_used_at').sort(), [...followed].sort());
  });
});
