import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migrate } from '../../migrate/index.js';
import { openPostgresStorage } from '../index.js';
import { migratePgComponents } from './index.js';
import { createPgTestSchema, type PgTestSchema } from './test-support.js';

const STEPS = ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (y INTEGER)'];
const schemas: PgTestSchema[] = [];
after(async () => {
  for (const s of schemas) await s.drop();
});

async function tablesOf(t: PgTestSchema): Promise<string[]> {
  const admin = new pg.Client({ connectionString: t.adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename',
      [t.schema],
    );
    return rows.map((r) => r.tablename);
  } finally {
    await admin.end();
  }
}

describe('the PostgreSQL migration runner', () => {
  it('lists pending migrations on a dry run and changes nothing, then applies them once', async () => {
    const t = await createPgTestSchema();
    schemas.push(t);
    const dry = await migratePgComponents(t.config, [{ component: 'demo', migrations: STEPS }], {
      dryRun: true,
    });
    assert.deepEqual(dry, [{ component: 'demo', from: 0, to: 2 }]);
    assert.deepEqual(await tablesOf(t), []);
    assert.deepEqual(await migratePgComponents(t.config, [{ component: 'demo', migrations: STEPS }]), [
      { component: 'demo', from: 0, to: 2 },
    ]);
    assert.deepEqual(await migratePgComponents(t.config, [{ component: 'demo', migrations: STEPS }]), [
      { component: 'demo', from: 2, to: 2 },
    ]);
    assert.deepEqual(await tablesOf(t), ['a', 'b', 'schema_migrations']);
  });

  it('refuses a schema newer than the code, with a clear error, and changes nothing', async () => {
    const t = await createPgTestSchema();
    schemas.push(t);
    const storage = await openPostgresStorage(t.config);
    await storage.close();
    const admin = new pg.Client({ connectionString: t.adminUrl });
    await admin.connect();
    await admin.query(`UPDATE ${t.schema}.schema_migrations SET version = 99 WHERE component = 'core'`);
    await admin.end();
    await assert.rejects(openPostgresStorage(t.config), /newer than this Portcullis; upgrade Portcullis/);
  });

  it('two processes migrating one schema at once apply each migration once', async () => {
    const t = await createPgTestSchema();
    schemas.push(t);
    const both = await Promise.all([
      migratePgComponents(t.config, [{ component: 'demo', migrations: STEPS }]),
      migratePgComponents(t.config, [{ component: 'demo', migrations: STEPS }]),
    ]);
    assert.deepEqual(both.map((s) => s[0]!.from).sort(), [0, 2]);
  });
});

describe('the SQLite migration runner on a dry run', () => {
  it('reports what is pending and changes nothing', () => {
    const db = new Database(':memory:');
    assert.deepEqual(migrate(db, { component: 'core', migrations: STEPS }, { dryRun: true }), {
      component: 'core',
      from: 0,
      to: 2,
    });
    assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), []);
    assert.deepEqual(migrate(db, { component: 'core', migrations: STEPS }), {
      component: 'core',
      from: 0,
      to: 2,
    });
  });
});
