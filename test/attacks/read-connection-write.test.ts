import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { openSqliteReadConnection, openSqliteStorage } from '../../src/storage/index.js';
import { openPgPools, openPostgresStorage, type PgStorageConfig } from '../../src/storage/postgres/index.js';
import { createPgTestSchema, type PgTestSchema } from '../../src/storage/postgres/test-support.js';

/**
 * Least privilege for the gateway's own database connection: every read (tool queries, key and
 * approval look-ups, searches) goes through a read-only connection, so a bug — or an injected
 * statement — that writes through it is refused by the database itself. Writes keep working on
 * the write connection beside it.
 */

const insertNote = `INSERT INTO notes (id, tenant, owner, title, content, tags, created_at)
  VALUES ('planted', 't', 'alice', '', 'planted by a bug', '[]', 0)`;
const owner = { tenant: 't', owner: 'alice' };
const note = { id: 'n1', title: '', content: 'legitimate note', tags: [], createdAt: new Date(1) };

describe('a write through the read connection', () => {
  const schemas: PgTestSchema[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const s of schemas) await s.drop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('PostgreSQL: the SELECT-only read role cannot change a row; the write role still can', async () => {
    const t = await createPgTestSchema();
    schemas.push(t);
    const storage = await openPostgresStorage(t.config);
    const pools = await openPgPools(t.config);
    try {
      await assert.rejects(pools.read.query(insertNote), /permission denied|read-only transaction/);
      await assert.rejects(
        pools.read.query('UPDATE api_keys SET revoked_at = NULL'),
        /permission denied|read-only/,
      );
      await assert.rejects(
        pools.read.query('DELETE FROM audit_records'),
        /permission denied|does not exist|read-only/,
      );
      await storage.notes.save(owner, note);
      assert.equal((await storage.notes.get(owner, 'n1'))?.content, 'legitimate note');
      assert.equal(await storage.notes.get(owner, 'planted'), undefined);
    } finally {
      await pools.close();
      await storage.close();
    }
  });

  it('PostgreSQL without a read role: the write role reads in read-only transactions', async () => {
    const t = await createPgTestSchema();
    schemas.push(t);
    const { readUrl: _unused, ...rest } = t.config;
    const config = rest as PgStorageConfig;
    const storage = await openPostgresStorage(config);
    const pools = await openPgPools(config);
    try {
      await assert.rejects(pools.read.query(insertNote), /read-only transaction/);
      await storage.notes.save(owner, note);
      assert.deepEqual(
        (await storage.notes.search(owner, 'legitimate', 5)).map((h) => h.id),
        ['n1'],
      );
    } finally {
      await pools.close();
      await storage.close();
    }
  });

  it('PostgreSQL with an owner role: the write role changes rows but cannot drop or alter tables', async () => {
    const t = await createPgTestSchema();
    schemas.push(t);
    const writer = `${t.schema}_rw`;
    const admin = new pg.Client({ connectionString: t.adminUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE ${writer} LOGIN NOSUPERUSER`);
    const writeUrl = new URL(t.writeUrl);
    writeUrl.username = writer;
    const config = { ...t.config, url: writeUrl.toString(), migrateUrl: t.writeUrl } as PgStorageConfig;
    const storage = await openPostgresStorage(config);
    const pools = await openPgPools(config);
    try {
      await assert.rejects(pools.write.query('DROP TABLE tool_effects'), /must be owner/);
      await assert.rejects(pools.write.query('ALTER TABLE notes DROP COLUMN owner'), /must be owner/);
      await assert.rejects(pools.write.query('CREATE TABLE planted (x int)'), /permission denied/);
      await storage.notes.save(owner, note, { correlationId: 'req_1', at: new Date(2) });
      assert.equal(await storage.effects.committed('req_1'), true);
    } finally {
      await pools.close();
      await storage.close();
      await admin.query(`DROP OWNED BY ${writer}`);
      await admin.query(`DROP ROLE ${writer}`);
      await admin.end();
    }
  });

  it('SQLite: the read connection is opened read-only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-readonly-'));
    dirs.push(dir);
    const file = path.join(dir, 'portcullis.db');
    const storage = openSqliteStorage(file);
    const read = openSqliteReadConnection(file);
    try {
      assert.throws(() => read.exec(insertNote), /readonly/i);
      await storage.notes.save(owner, note);
      assert.equal((await storage.notes.get(owner, 'n1'))?.content, 'legitimate note');
      assert.equal(await storage.notes.get(owner, 'planted'), undefined);
    } finally {
      read.close();
      await storage.close();
    }
  });
});
