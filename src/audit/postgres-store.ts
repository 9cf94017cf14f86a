/**
 * The PostgreSQL audit store: the tables of the SQLite one (component `audit`) in the configured
 * schema, shared by every gateway process on the database.
 *
 * One total order across processes: every write transaction first takes a transaction-scoped
 * advisory lock (`pg_advisory_xact_lock` on a key derived from the schema), then reads the chain
 * state, builds and inserts. So writers in different processes are serialised exactly as SQLite's
 * `BEGIN IMMEDIATE` serialises them, the chain has no gap and no fork, and the group commit of
 * audit-log.ts still puts many records in one transaction. `seq` is a primary key besides, so
 * even a writer that skipped the lock could not fork the chain: its insert would fail.
 *
 * Durability: COMMIT returns once the server has flushed the WAL (`synchronous_commit` on, the
 * server default; an operator who lowers it loses the guarantee and `doctor` says so).
 */
import type pg from 'pg';
import type { Seal } from './checkpoint.js';
import type { PgSchema } from '../migrate/index.js';
import { migratePgComponents, openPgPools, type PgStorageConfig } from '../storage/index.js';
import { isPortcullisError } from '../errors/index.js';
import { AuditError } from './errors.js';
import { CALL_END_EVENTS } from './record.js';
import { fromRow, toRow, type RecordRow } from './sqlite-store.js';
import type { AuditBatch, AuditQuery, AuditStore, BatchBuilder, ChainState } from './store.js';

export const AUDIT_PG_SCHEMA: PgSchema = {
  component: 'audit',
  migrations: [
    `
    CREATE TABLE audit_records (
      seq BIGINT PRIMARY KEY,
      time TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL,
      correlation_id TEXT NOT NULL,
      session_id TEXT,
      principal TEXT,
      tenant TEXT,
      client_id TEXT,
      credential_id TEXT,
      auth_method TEXT,
      event TEXT NOT NULL,
      tool TEXT,
      upstream TEXT,
      args_json TEXT,
      decision TEXT NOT NULL,
      reasons_json TEXT NOT NULL,
      scope TEXT,
      outcome TEXT NOT NULL,
      error_code TEXT,
      latency_ms DOUBLE PRECISION NOT NULL,
      bytes_in BIGINT NOT NULL,
      bytes_out BIGINT NOT NULL,
      salt TEXT,
      commitments_json TEXT NOT NULL,
      erased INTEGER NOT NULL DEFAULT 0,
      erasure_json TEXT
    );
    CREATE INDEX audit_records_principal ON audit_records (principal, seq);
    CREATE INDEX audit_records_time ON audit_records (time);
    CREATE INDEX audit_records_tool ON audit_records (tool, seq);
    CREATE INDEX audit_records_decision ON audit_records (decision, seq);
    CREATE TABLE audit_checkpoints (
      seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, time TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL
    );
    CREATE TABLE audit_seals (
      kind TEXT PRIMARY KEY CHECK (kind IN ('head', 'anchor')),
      seq BIGINT NOT NULL, hash TEXT NOT NULL, time TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL
    );
    CREATE TABLE audit_open_intents (correlation_id TEXT PRIMARY KEY, seq BIGINT NOT NULL);
    `,
    // People's own upstream connections (issue 13): which one a call used, erasable like the rest.
    `
    ALTER TABLE audit_records ADD COLUMN connection_id TEXT;
    ALTER TABLE audit_records ADD COLUMN upstream_subject TEXT;
    `,
  ],
};

interface SealRow {
  seq: number;
  hash: string;
  time: string;
  key_id: string;
  signature: string;
}

const seal = (r: SealRow | undefined): Seal | undefined =>
  r && { seq: r.seq, hash: r.hash, time: r.time, keyId: r.key_id, signature: r.signature };

/** The audit store over a write pool and a read-only pool, in `schema` (which names the lock). */
export function createPostgresAuditStore(
  write: pg.Pool,
  read: pg.Pool,
  schema: string,
  close: () => Promise<void>,
): AuditStore {
  const lockKey = `portcullis:audit:${schema}`;

  /** One write transaction holding the chain lock; rolled back when `work` throws. */
  const locked = async <T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await write.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
      const out = await work(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  };

  const readSeal = async (q: pg.Pool | pg.PoolClient, kind: string) =>
    seal(
      (
        await q.query<SealRow>('SELECT seq, hash, time, key_id, signature FROM audit_seals WHERE kind = $1', [
          kind,
        ])
      ).rows[0],
    );

  const chainState = async (c: pg.PoolClient): Promise<ChainState> => {
    const { rows } = await c.query<{ last: number; cp: number }>(
      `SELECT COALESCE((SELECT MAX(seq) FROM audit_records), (SELECT seq FROM audit_seals WHERE kind = 'anchor'), 0) AS last,
              COALESCE((SELECT MAX(seq) FROM audit_checkpoints), 0) AS cp`,
    );
    return {
      head: await readSeal(c, 'head'),
      anchor: await readSeal(c, 'anchor'),
      lastSeq: rows[0]!.last,
      lastCheckpointSeq: rows[0]!.cp,
    };
  };

  const writeBatch = async (c: pg.PoolClient, state: ChainState, batch: AuditBatch) => {
    const first = batch.records[0];
    const last = batch.records.at(-1)?.seq ?? state.lastSeq;
    if ((first && first.seq !== state.lastSeq + 1) || batch.head.seq !== last) {
      throw new AuditError('storage-failure', 'audit chain position conflict', {
        detail: `batch ${first?.seq ?? '-'}..${last} with head ${batch.head.seq}, store at ${state.lastSeq}`,
      });
    }
    if (batch.records.length > 0) {
      // One round trip for the whole batch.
      await c.query(
        'INSERT INTO audit_records SELECT * FROM json_populate_recordset(NULL::audit_records, $1::json)',
        [JSON.stringify(batch.records.map(toRow))],
      );
      const opened = batch.records.filter((r) => r.event === 'tool-intent');
      const closed = batch.records.filter((r) => CALL_END_EVENTS.has(r.event)).map((r) => r.correlationId);
      for (const r of opened) {
        await c.query(
          `INSERT INTO audit_open_intents (correlation_id, seq) VALUES ($1, $2)
             ON CONFLICT (correlation_id) DO UPDATE SET seq = excluded.seq`,
          [r.correlationId, r.seq],
        );
      }
      if (closed.length > 0)
        await c.query('DELETE FROM audit_open_intents WHERE correlation_id = ANY($1::text[])', [closed]);
    }
    for (const cp of batch.checkpoints) {
      await c.query(
        'INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES ($1, $2, $3, $4, $5)',
        [cp.seq, cp.hash, cp.time, cp.keyId, cp.signature],
      );
    }
    await upsertSeal(c, 'head', batch.head);
  };

  const upsertSeal = (c: pg.PoolClient, kind: string, s: Seal) =>
    c.query(
      `INSERT INTO audit_seals (kind, seq, hash, time, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kind) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, time = excluded.time,
           key_id = excluded.key_id, signature = excluded.signature`,
      [kind, s.seq, s.hash, s.time, s.keyId, s.signature],
    );

  const records = async (sql: string, params: unknown[]) =>
    (await read.query<RecordRow>(sql, params)).rows.map(fromRow);

  return {
    appendBatch: (build: BatchBuilder) =>
      attempt('cannot commit audit records', () =>
        locked(async (c) => {
          const state = await chainState(c);
          const batch = build(state);
          if (batch) await writeBatch(c, state, batch);
          return batch;
        }),
      ),
    readFrom: (fromSeq, limit) =>
      attempt('cannot read audit records', () =>
        records('SELECT * FROM audit_records WHERE seq >= $1 ORDER BY seq LIMIT $2', [fromSeq, limit]),
      ),
    query: (query: AuditQuery) =>
      attempt('cannot query audit records', async () => {
        const where: string[] = [];
        const params: unknown[] = [];
        const add = (column: string, op: string, value: string | number | undefined) => {
          if (value === undefined) return;
          params.push(value);
          where.push(`${column} ${op} $${params.length}`);
        };
        add('principal', '=', query.principal);
        add('time', '>=', query.since);
        add('time', '<', query.until);
        add('tool', '=', query.tool);
        add('decision', '=', query.decision);
        add('outcome', '=', query.outcome);
        add('client_id', '=', query.clientId);
        add('upstream', '=', query.upstream);
        if (query.reason !== undefined) {
          params.push(query.reason);
          where.push(
            `EXISTS (SELECT 1 FROM json_array_elements_text(reasons_json::json) AS reason WHERE reason = $${params.length})`,
          );
        }
        add('seq', '>', query.afterSeq);
        params.push(query.limit);
        const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
        const rows = await records(
          `SELECT * FROM audit_records ${filter} ORDER BY seq ${query.newest ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
          params,
        );
        return query.newest ? rows.reverse() : rows;
      }),
    checkpoints: () =>
      attempt('cannot read audit checkpoints', async () =>
        (
          await read.query<SealRow>(
            'SELECT seq, hash, time, key_id, signature FROM audit_checkpoints ORDER BY seq',
          )
        ).rows.map((r) => seal(r)!),
      ),
    head: () => attempt('cannot read the audit head', () => readSeal(read, 'head')),
    anchor: () => attempt('cannot read the audit anchor', () => readSeal(read, 'anchor')),
    prune: (anchor) =>
      attempt('cannot prune audit records', () =>
        locked(async (c) => {
          const deleted =
            (await c.query('DELETE FROM audit_records WHERE seq <= $1', [anchor.seq])).rowCount ?? 0;
          await c.query('DELETE FROM audit_open_intents WHERE seq <= $1', [anchor.seq]);
          await c.query('DELETE FROM audit_checkpoints WHERE seq < $1', [anchor.seq]);
          await upsertSeal(c, 'anchor', anchor);
          return deleted;
        }),
      ),
    erasePrincipal: (principal, build) =>
      attempt('cannot erase audit records', () =>
        locked(async (c) => {
          const state = await chainState(c);
          const seqs = (
            await c.query<{ seq: number }>(
              'SELECT seq FROM audit_records WHERE principal = $1 AND erased = 0 ORDER BY seq',
              [principal],
            )
          ).rows.map((r) => r.seq);
          if (seqs.length === 0) return seqs;
          await c.query(
            `UPDATE audit_records SET session_id = NULL, principal = NULL, tenant = NULL, client_id = NULL,
               credential_id = NULL, args_json = NULL, connection_id = NULL, upstream_subject = NULL, salt = NULL,
               erased = 1 WHERE principal = $1 AND erased = 0`,
            [principal],
          );
          await writeBatch(c, state, build(state, seqs));
          return seqs;
        }),
      ),
    openIntents: () =>
      attempt('cannot read open audit intents', () =>
        records(
          'SELECT r.* FROM audit_open_intents o JOIN audit_records r ON r.seq = o.seq ORDER BY r.seq',
          [],
        ),
      ),
    close: () => attempt('cannot close the audit database', close),
  };
}

async function attempt<T>(message: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AuditError) throw err;
    throw new AuditError('storage-failure', message, { detail: String(err), cause: err });
  }
}

/** Migrates the audit tables over the owner connection, then opens the store on its own pools. */
export async function openPostgresAuditStore(
  config: PgStorageConfig,
  env?: NodeJS.ProcessEnv,
): Promise<AuditStore> {
  try {
    await migratePgComponents(config, [AUDIT_PG_SCHEMA], env ? { env } : {});
    const pools = await openPgPools(config, env);
    return createPostgresAuditStore(pools.write, pools.read, pools.schema, () => pools.close());
  } catch (err) {
    // A refused role or a newer schema already says what is wrong.
    if (err instanceof AuditError || isPortcullisError(err)) throw err;
    throw new AuditError('storage-failure', 'cannot open the PostgreSQL audit store', {
      detail: String(err),
      cause: err,
    });
  }
}
