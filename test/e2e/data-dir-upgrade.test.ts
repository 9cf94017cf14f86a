// Data directories written before the one migration runner (src/migrate) open with every row
// kept: the core tables counted their version in PRAGMA user_version, OAuth and users kept rows
// in schema_migrations(component, version), and the audit file one row per applied version.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteAuditStore } from '../../src/audit/index.js';
import { AUDIT_MIGRATIONS } from '../../src/audit/sqlite-store.js';
import { openSqliteOAuthDatabase } from '../../src/oauth/index.js';
import { OAUTH_MIGRATIONS } from '../../src/oauth/store/sqlite-store.js';
import { openSqliteStorage } from '../../src/storage/index.js';
import { CORE_SCHEMA } from '../../src/storage/sqlite/migrations.js';
import { USER_MIGRATIONS } from '../../src/users/index.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempFile(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-upgrade-'));
  dirs.push(dir);
  return path.join(dir, name);
}

const versions = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT component, version FROM schema_migrations ORDER BY component').all();
  } finally {
    db.close();
  }
};

/** The gateway's file as the previous release left it: core at version 3, OAuth and users at 1. */
function oldGatewayFile(): string {
  const file = tempFile('portcullis.db');
  const db = new Database(file);
  for (const sql of CORE_SCHEMA.migrations.slice(0, 3)) db.exec(sql);
  db.pragma('user_version = 3');
  db.exec(OAUTH_MIGRATIONS[0]!);
  db.exec(USER_MIGRATIONS[0]!);
  db.exec(
    `CREATE TABLE schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT;
     INSERT INTO schema_migrations VALUES ('oauth', 1), ('users', 1);
     INSERT INTO api_keys (id, hash, owner, tenant, label, scopes, created_at)
       VALUES ('k1', 'h', 'ann', 'ann', 'old key', '["memory:read"]', 1);
     INSERT INTO users (name, tenant, password_hash, created_at) VALUES ('ann', 'ann', 'scrypt$x', 1);`,
  );
  db.close();
  return file;
}

describe('upgrading a data directory to the one migration runner', () => {
  it('the gateway file keeps its keys and people and records each component in one table', async () => {
    const file = oldGatewayFile();
    const storage = openSqliteStorage(file);
    const oauth = openSqliteOAuthDatabase(file);
    try {
      assert.deepEqual(
        (await storage.apiKeys.list()).map((k) => [k.id, k.label]),
        [['k1', 'old key']],
      );
      assert.equal((await oauth.users.find('ann'))?.role, 'member');
    } finally {
      await storage.close();
      await oauth.close();
    }
    assert.deepEqual(versions(file), [
      { component: 'core', version: CORE_SCHEMA.migrations.length },
      { component: 'oauth', version: OAUTH_MIGRATIONS.length },
      { component: 'users', version: USER_MIGRATIONS.length },
    ]);
    // Opening again applies nothing more.
    const again = openSqliteStorage(file);
    await again.close();
  });

  it('a gateway file newer than this Portcullis is refused, by either bookkeeping', () => {
    const legacy = tempFile('portcullis.db');
    const raw = new Database(legacy);
    raw.pragma(`user_version = ${CORE_SCHEMA.migrations.length + 1}`);
    raw.close();
    assert.throws(
      () => openSqliteStorage(legacy),
      (err: any) => err.code === 'storage-failure' && /core schema version \d+ is newer/.test(err.detail),
    );

    const current = oldGatewayFile();
    const db = new Database(current);
    db.prepare("INSERT INTO schema_migrations VALUES ('core', 99)").run();
    db.prepare("UPDATE schema_migrations SET version = 99 WHERE component = 'oauth'").run();
    db.close();
    assert.throws(
      () => openSqliteStorage(current),
      (err: any) => /core schema version 99/.test(err.detail),
    );
    assert.throws(
      () => openSqliteOAuthDatabase(current),
      (err: any) => /oauth schema version 99/.test(err.detail),
    );
  });

  it('the audit file keeps its records and its version history', async () => {
    const file = tempFile('audit.db');
    const raw = new Database(file);
    raw.exec(AUDIT_MIGRATIONS[0]!);
    raw.exec(AUDIT_MIGRATIONS[1]!);
    raw.exec(
      `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
       INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00.000Z'), (2, '2026-02-01T00:00:00.000Z');
       INSERT INTO audit_checkpoints VALUES (1, 'hash', '2026-01-01T00:00:00.000Z', 'key', 'sig');`,
    );
    raw.close();

    const store = openSqliteAuditStore({ file });
    await store.close();

    assert.deepEqual(versions(file), [{ component: 'audit', version: AUDIT_MIGRATIONS.length }]);
    const db = new Database(file, { readonly: true });
    try {
      assert.deepEqual(db.prepare('SELECT seq, hash FROM audit_checkpoints').all(), [
        { seq: 1, hash: 'hash' },
      ]);
      assert.deepEqual(
        db.prepare('SELECT version FROM schema_migrations_by_version ORDER BY version').all(),
        [{ version: 1 }, { version: 2 }],
      );
      assert.equal(
        db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'audit_open_intents'").pluck().get(),
        1,
      );
    } finally {
      db.close();
    }
  });

  it('an audit file newer than this Portcullis is refused', () => {
    const file = tempFile('audit.db');
    const raw = new Database(file);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (let v = 1; v <= AUDIT_MIGRATIONS.length + 1; v++) {
      raw.prepare("INSERT INTO schema_migrations VALUES (?, 'x')").run(v);
    }
    raw.close();
    assert.throws(
      () => openSqliteAuditStore({ file }),
      (err: any) => err.code === 'storage-failure' && /audit schema version \d+ is newer/.test(err.detail),
    );
  });
});
