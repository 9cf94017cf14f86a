import type Database from 'better-sqlite3';
import type { MigrationStep } from './migrate-postgres.js';

/**
 * One component's tables in a SQLite file, as ordered, append-only migrations. Each component
 * keeps its own row in `schema_migrations (component, version)`, so components that share a file
 * (the core storage, OAuth and users share the gateway's file) never disturb each other's
 * numbering. Never edit a released migration: add a new one.
 */
export interface SqliteSchema {
  readonly component: string;
  readonly migrations: readonly string[];
  /**
   * Where this component's version was kept before the shared table: `user-version` for the
   * core tables, which counted in `PRAGMA user_version`; `version-rows` for the audit file, whose
   * `schema_migrations` had one row per applied version. Read once, when the component has no
   * row yet; the version found becomes its row.
   */
  readonly legacy?: 'user-version' | 'version-rows';
}

/** The table of a file that kept one component's versions as rows `(version, applied_at)`. */
const LEGACY_VERSIONS_TABLE = 'schema_migrations_by_version';

/**
 * Brings a component's tables up to the latest migration. Everything (reading the version,
 * converting old bookkeeping, applying what is missing) happens in one write transaction, so
 * two processes opening a file at once cannot both apply a migration, and a failing migration
 * leaves the file as it was. A file whose version is newer than the code is refused: this
 * Portcullis would not know its tables.
 */
export function migrate(
  db: Database.Database,
  schema: SqliteSchema,
  options: { dryRun?: boolean } = {},
): MigrationStep {
  const { component, migrations } = schema;
  let step: MigrationStep | undefined;
  const run = db.transaction(() => {
    adoptVersionRows(db);
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT',
    );
    const row = db
      .prepare<[string], { version: number }>('SELECT version FROM schema_migrations WHERE component = ?')
      .get(component);
    const current = row?.version ?? legacyVersion(db, schema);
    if (current > migrations.length) {
      throw new Error(
        `${component} schema version ${current} is newer than this Portcullis (${migrations.length}); upgrade Portcullis`,
      );
    }
    step = { component, from: current, to: migrations.length };
    // A dry run stops here; throwing rolls back the bookkeeping the reads above may have done.
    if (options.dryRun) throw DRY_RUN;
    for (let v = current; v < migrations.length; v++) db.exec(migrations[v]!);
    if (row?.version !== migrations.length) {
      db.prepare(
        'INSERT INTO schema_migrations (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version',
      ).run(component, migrations.length);
    }
  });
  try {
    run.immediate();
  } catch (err) {
    if (err !== DRY_RUN) throw err;
  }
  return step!;
}

/** Thrown to roll a dry run back; never escapes `migrate`. */
class DryRunRollback extends Error {}
const DRY_RUN = new DryRunRollback('dry run');

function legacyVersion(db: Database.Database, schema: SqliteSchema): number {
  if (schema.legacy === 'user-version') return db.pragma('user_version', { simple: true }) as number;
  if (schema.legacy !== 'version-rows') return 0;
  const rows = db
    .prepare<[string], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
    .all(LEGACY_VERSIONS_TABLE);
  if (rows.length === 0) return 0;
  return contiguousVersion(
    db.prepare<[], { version: number }>(`SELECT version FROM ${LEGACY_VERSIONS_TABLE}`).all(),
  );
}

/**
 * A file of the older one-component shape, `schema_migrations (version PRIMARY KEY, applied_at)`
 * (the audit database): that table is kept, under another name, for its history, and the
 * version it records is read by `legacyVersion` for the file's one component.
 */
function adoptVersionRows(db: Database.Database): void {
  const columns = db
    .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('schema_migrations')")
    .all();
  if (columns.length === 0 || columns.some((c) => c.name === 'component')) return;
  db.exec(`ALTER TABLE schema_migrations RENAME TO ${LEGACY_VERSIONS_TABLE}`);
}

/** The version rows 1..n say n migrations are applied; a gap means the file is not ours to guess at. */
function contiguousVersion(rows: readonly { version: number }[]): number {
  const versions = rows.map((r) => r.version).sort((a, b) => a - b);
  if (versions.some((v, i) => v !== i + 1)) {
    throw new Error(
      `schema versions ${versions.join(', ')} are not a sequence from 1; the file was not written by Portcullis`,
    );
  }
  return versions.length;
}
