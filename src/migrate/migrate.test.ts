import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { migrate, type SqliteSchema } from './index.js';

const STEPS = ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (y INTEGER)', 'ALTER TABLE a ADD COLUMN z TEXT'];
const schema = (component: string, n = STEPS.length, legacy?: SqliteSchema['legacy']): SqliteSchema => ({
  component,
  migrations: STEPS.slice(0, n),
  ...(legacy ? { legacy } : {}),
});

const versions = (db: Database.Database) =>
  db.prepare('SELECT component, version FROM schema_migrations ORDER BY component').all();
const tables = (db: Database.Database) =>
  db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((t) => t.name);

describe('the SQLite migration runner', () => {
  it('applies every migration of a new file once and records the version under the component', () => {
    const db = new Database(':memory:');
    migrate(db, schema('core'));
    migrate(db, schema('core'));
    assert.deepEqual(versions(db), [{ component: 'core', version: 3 }]);
    assert.deepEqual(tables(db), ['a', 'b', 'schema_migrations']);
  });

  it('applies only the migrations added since the recorded version, keeping the data', () => {
    const db = new Database(':memory:');
    migrate(db, schema('core', 2));
    db.exec('INSERT INTO a (x) VALUES (7)');
    migrate(db, schema('core'));
    assert.deepEqual(db.prepare('SELECT x, z FROM a').all(), [{ x: 7, z: null }]);
    assert.deepEqual(versions(db), [{ component: 'core', version: 3 }]);
  });

  it('keeps the numbering of components that share a file apart', () => {
    const db = new Database(':memory:');
    migrate(db, schema('core'));
    migrate(db, { component: 'users', migrations: ['CREATE TABLE people (name TEXT)'] });
    assert.deepEqual(versions(db), [
      { component: 'core', version: 3 },
      { component: 'users', version: 1 },
    ]);
  });

  it('refuses a file whose version is newer than the code and changes nothing', () => {
    const db = new Database(':memory:');
    migrate(db, schema('core'));
    assert.throws(
      () => migrate(db, schema('core', 2)),
      /core schema version 3 is newer than this Portcullis \(2\)/,
    );
    assert.deepEqual(versions(db), [{ component: 'core', version: 3 }]);
  });

  it('rolls a failing migration back whole', () => {
    const db = new Database(':memory:');
    assert.throws(() => migrate(db, { component: 'core', migrations: ['CREATE TABLE a (x)', 'NOT SQL'] }));
    assert.deepEqual(tables(db), []);
  });

  it('adopts the version a file kept in PRAGMA user_version, for the component that kept it there', () => {
    const db = new Database(':memory:');
    db.exec(STEPS[0]!);
    db.exec(STEPS[1]!);
    db.pragma('user_version = 2');
    migrate(db, { component: 'oauth', migrations: ['CREATE TABLE c (w INTEGER)'] });
    migrate(db, schema('core', 3, 'user-version'));
    assert.deepEqual(versions(db), [
      { component: 'core', version: 3 },
      { component: 'oauth', version: 1 },
    ]);
    assert.deepEqual(tables(db), ['a', 'b', 'c', 'schema_migrations']);
  });

  it('refuses a user_version newer than the code', () => {
    const db = new Database(':memory:');
    db.pragma('user_version = 9');
    assert.throws(() => migrate(db, schema('core', 3, 'user-version')), /version 9 is newer/);
  });

  it('converts a table of version rows to the component table and keeps the old rows', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    db.exec(STEPS[0]!);
    db.prepare("INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00.000Z')").run();
    migrate(db, schema('audit', 3, 'version-rows'));
    assert.deepEqual(versions(db), [{ component: 'audit', version: 3 }]);
    assert.deepEqual(db.prepare('SELECT version, applied_at FROM schema_migrations_by_version').all(), [
      { version: 1, applied_at: '2026-01-01T00:00:00.000Z' },
    ]);
    assert.deepEqual(tables(db), ['a', 'b', 'schema_migrations', 'schema_migrations_by_version']);
  });

  it('refuses version rows that are newer than the code or not a sequence from 1', () => {
    const newer = new Database(':memory:');
    newer.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const v of [1, 2, 3, 4]) newer.prepare("INSERT INTO schema_migrations VALUES (?, 'x')").run(v);
    assert.throws(() => migrate(newer, schema('audit', 3, 'version-rows')), /version 4 is newer/);
    const gap = new Database(':memory:');
    gap.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const v of [1, 3]) gap.prepare("INSERT INTO schema_migrations VALUES (?, 'x')").run(v);
    assert.throws(() => migrate(gap, schema('audit', 3, 'version-rows')), /not a sequence from 1/);
  });
});
