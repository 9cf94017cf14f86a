import type pg from 'pg';

/**
 * One component's tables in a PostgreSQL schema, as ordered, append-only migrations: the same
 * bookkeeping as SQLite (`schema_migrations (component, version)` in the configured schema), so
 * one runner shape serves both. Never edit a released migration: add a new one.
 */
export interface PgSchema {
  readonly component: string;
  readonly migrations: readonly string[];
}

/** What a run found (and, unless a dry run, did) for one component. */
export interface MigrationStep {
  readonly component: string;
  readonly from: number;
  readonly to: number;
}

export interface PgMigrateOptions {
  /** Report what is pending and change nothing. */
  readonly dryRun?: boolean;
  /** Roles granted what they need once the tables exist (the write role, the read role). */
  readonly grants?: { readonly write?: string; readonly read?: string };
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Brings every component's tables in `schema` up to date, in one transaction under a
 * transaction-scoped advisory lock, so two processes starting at once never both apply a
 * migration and a failing migration changes nothing. A schema whose version is newer than the
 * code is refused: this Portcullis would not know its tables.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  schema: string,
  components: readonly PgSchema[],
  options: PgMigrateOptions = {},
): Promise<MigrationStep[]> {
  const s = quote(schema);
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('portcullis:migrate:' || $1))", [schema]);
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${s}`);
    await client.query(`SET LOCAL search_path = ${s}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL)',
    );
    const steps: MigrationStep[] = [];
    for (const { component, migrations } of components) {
      const { rows } = await client.query<{ version: number }>(
        'SELECT version FROM schema_migrations WHERE component = $1',
        [component],
      );
      const current = rows[0]?.version ?? 0;
      if (current > migrations.length) {
        throw new Error(
          `${component} schema version ${current} in PostgreSQL schema ${schema} is newer than this Portcullis (${migrations.length}); upgrade Portcullis`,
        );
      }
      steps.push({ component, from: current, to: migrations.length });
      if (options.dryRun) continue;
      for (let v = current; v < migrations.length; v++) await client.query(migrations[v]!);
      if (current !== migrations.length) {
        await client.query(
          `INSERT INTO schema_migrations (component, version) VALUES ($1, $2)
             ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
          [component, migrations.length],
        );
      }
    }
    if (!options.dryRun) await grant(client, s, options.grants ?? {});
    await client.query(options.dryRun ? 'ROLLBACK' : 'COMMIT');
    return steps;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The write role gets row changes (never DDL); the read role SELECT only. */
async function grant(client: pg.ClientBase, s: string, roles: PgMigrateOptions['grants'] & object) {
  const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
  const owner = rows[0]!.user;
  if (roles.write && roles.write !== owner) {
    const w = quote(roles.write);
    await client.query(`GRANT USAGE ON SCHEMA ${s} TO ${w}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${w}`);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${w}`);
  }
  if (roles.read && roles.read !== owner && roles.read !== roles.write) {
    const r = quote(roles.read);
    await client.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${r}`);
  }
}
