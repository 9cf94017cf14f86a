import fs from 'node:fs';
import type pg from 'pg';
import { PortcullisError } from '../../errors/index.js';
import { resolveSecret } from '../../secrets/index.js';
import type { StorageConfig } from '../config.js';
import { importAgain } from '../../lazy/index.js';

/**
 * The gateway's PostgreSQL connections: a write pool on `storage.url` and a read pool on
 * `storage.readUrl` (or, without one, the write role in read-only transactions). Every
 * connection's `search_path` is the configured schema, so the SQL names bare tables.
 */
export interface PgPools {
  readonly write: pg.Pool;
  readonly read: pg.Pool;
  readonly schema: string;
  close(): Promise<void>;
}

export type PgStorageConfig = StorageConfig & { readonly driver: 'postgres'; readonly url: string };

/** Resolves `env:` / `file:` references; a literal URL is returned as it is. */
export function resolvePgUrl(ref: string, env: NodeJS.ProcessEnv = process.env): string {
  const url = ref.startsWith('env:') || ref.startsWith('file:') ? resolveSecret(ref, env) : ref;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new PortcullisError(
      'config-invalid',
      `The database URL in ${describeRef(ref)} is not a postgres:// URL.`,
    );
  }
  return url;
}

const describeRef = (ref: string) => (ref.startsWith('env:') || ref.startsWith('file:') ? ref : 'storage');

/**
 * BIGINT (times in ms, counts) as a JavaScript number: every value stored is below 2^53, and the
 * stores map rows exactly as the SQLite ones do.
 */
const INT8_OID = 20;
let loaded: typeof pg | undefined;
const INT8_AS_NUMBER = {
  // Only pg calls this, so pg is loaded by then.
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID
      ? (v: string) => Number(v)
      : (loaded!.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown)(
          oid,
          format,
        )) as pg.CustomTypesConfig['getTypeParser'],
};

const loadPgModule = importAgain<{ default: typeof pg }>(import.meta.resolve('pg'));

/**
 * The `pg` driver, loaded on first use: a SQLite or in-memory gateway never loads it. A failed
 * load is tried again by the next use (lazy/import-again.ts).
 */
export async function loadPg(): Promise<typeof pg> {
  loaded ??= (await loadPgModule()).default;
  return loaded;
}

/** Pool settings for one URL, without a password in anything that is logged. */
export function poolConfig(
  config: StorageConfig,
  url: string,
  options: { readOnly?: boolean; max?: number } = {},
): pg.PoolConfig {
  const settings = [`-c search_path=${config.schema}`];
  if (options.readOnly) settings.push('-c default_transaction_read_only=on');
  let ssl: pg.PoolConfig['ssl'];
  if (config.tls) {
    const caRef = config.tls.ca;
    ssl = {
      rejectUnauthorized: config.tls.rejectUnauthorized,
      ...(caRef
        ? { ca: caRef.startsWith('file:') ? resolveSecret(caRef) : fs.readFileSync(caRef, 'utf8') }
        : {}),
    };
  }
  return {
    connectionString: url,
    types: INT8_AS_NUMBER,
    max: options.max ?? config.pool.max,
    options: settings.join(' '),
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    ...(ssl ? { ssl } : {}),
  };
}

/** What a connection's role may do, as the database says. */
export interface RoleFacts {
  readonly user: string;
  readonly superuser: boolean;
  /** Whether this connection may change the schema's tables (INSERT on any of them). */
  readonly canWrite: boolean;
}

export async function roleFacts(pool: pg.Pool, schema: string): Promise<RoleFacts> {
  const { rows } = await pool.query<{ user: string; superuser: boolean; can_write: boolean }>(
    `SELECT current_user AS user,
            -- A member of a superuser role can SET ROLE to it: that counts as a superuser too.
            EXISTS (SELECT 1 FROM pg_roles r WHERE (r.rolsuper OR r.rolbypassrls)
                     AND pg_has_role(current_user, r.oid, 'MEMBER')) AS superuser,
            EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = $1
                     AND has_table_privilege(format('%I.%I', t.schemaname, t.tablename), 'INSERT')) AS can_write`,
    [schema],
  );
  const r = rows[0]!;
  return { user: r.user, superuser: r.superuser, canWrite: r.can_write };
}

/**
 * A superuser connection is refused: a bug or an injected query on it could read every
 * database, run programs on the server (COPY … PROGRAM) and drop the audit trail.
 */
export function refuseSuperuser(facts: RoleFacts, which: string): void {
  if (facts.superuser) {
    throw new PortcullisError(
      'config-invalid',
      `The ${which} database role "${facts.user}" is a PostgreSQL superuser (or bypasses row security, or may become a role that does); Portcullis refuses to run on one. Create a role of its own (docs/storage.md, "Roles").`,
    );
  }
}

/**
 * Opens both pools and checks their roles: no superuser on either. Call after migrating, so the
 * schema exists.
 */
export async function openPgPools(
  config: PgStorageConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PgPools> {
  const writeUrl = resolvePgUrl(config.url, env);
  const readUrl = config.readUrl ? resolvePgUrl(config.readUrl, env) : writeUrl;
  // The stores of one process (core, OAuth and users, audit) share one pair of pools, so a
  // process holds at most 2 × pool.max connections, however many stores it opens.
  const key = JSON.stringify([writeUrl, readUrl, config.schema, config.pool.max, config.tls ?? null]);
  let entry = shared.get(key);
  if (!entry) {
    const { Pool } = await loadPg();
    const write = new Pool(poolConfig(config, writeUrl));
    const read = new Pool(poolConfig(config, readUrl, { readOnly: true }));
    // An idle connection that breaks (the server restarted) must not crash the process.
    write.on('error', () => undefined);
    read.on('error', () => undefined);
    entry = { write, read, users: 0 };
    shared.set(key, entry);
  }
  const opened = entry;
  opened.users += 1;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    opened.users -= 1;
    if (opened.users > 0) return;
    shared.delete(key);
    await Promise.allSettled([opened.write.end(), opened.read.end()]);
  };
  try {
    refuseSuperuser(await roleFacts(opened.write, config.schema), 'storage.url');
    refuseSuperuser(await roleFacts(opened.read, config.schema), 'storage.readUrl');
  } catch (err) {
    await close();
    if (err instanceof PortcullisError) throw err;
    throw new PortcullisError('storage-failure', 'Cannot connect to the PostgreSQL database.', {
      detail: String(err),
      cause: err,
    });
  }
  return { write: opened.write, read: opened.read, schema: config.schema, close };
}

const shared = new Map<string, { write: pg.Pool; read: pg.Pool; users: number }>();

/** Runs `work` in one transaction on a client of `pool`; rolls back when it throws. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
