import type pg from 'pg';
import {
  loadPg,
  poolConfig,
  resolvePgUrl,
  roleFacts,
  type PgStorageConfig,
  type RoleFacts,
} from './open-pools.js';

/** What `doctor` says of each PostgreSQL connection. */
export interface PgRoleReport {
  readonly write: RoleFacts | { readonly error: string };
  readonly read: (RoleFacts & { readonly readOnlyTransactions: boolean }) | { readonly error: string };
  readonly synchronousCommit?: string;
}

/** Connects once on each URL and reports its role; never throws (a failure is in the report). */
export async function inspectPgRoles(
  config: PgStorageConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PgRoleReport> {
  const probe = async <T>(ref: string, readOnly: boolean, extra: (p: pg.Pool) => Promise<T>) => {
    const { Pool } = await loadPg();
    const pool = new Pool(poolConfig(config, resolvePgUrl(ref, env), { readOnly, max: 1 }));
    pool.on('error', () => undefined);
    try {
      return { ...(await roleFacts(pool, config.schema)), ...(await extra(pool)) };
    } finally {
      await pool.end();
    }
  };
  const settle = async <T extends object>(p: () => Promise<T>) => {
    try {
      return await p();
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  };
  let synchronousCommit: string | undefined;
  const write = await settle(() =>
    probe(config.url, false, async (p) => {
      synchronousCommit = (
        await p.query<{ v: string }>('SELECT current_setting($1) AS v', ['synchronous_commit'])
      ).rows[0]?.v;
      return {};
    }),
  );
  const read = await settle(() =>
    probe(config.readUrl ?? config.url, true, async (p) => ({
      readOnlyTransactions:
        (await p.query<{ v: string }>("SELECT current_setting('default_transaction_read_only') AS v")).rows[0]
          ?.v === 'on',
    })),
  );
  return { write, read, ...(synchronousCommit ? { synchronousCommit } : {}) };
}
