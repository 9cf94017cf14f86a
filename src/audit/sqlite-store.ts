/**
 * The SQLite audit store: its own file (`<dataDir>/audit.db`) so the audit log's durability settings
 * and growth are independent of the gateway's other state.
 *
 * Durability: WAL journal with `synchronous = FULL`, so a committed transaction has been fsynced to
 * the WAL before `appendBatch` returns, and survives a crash of the process or the machine.
 *
 * Schema (migration 1):
 *   audit_records(seq INTEGER PRIMARY KEY, time, prev_hash, hash, correlation_id, session_id,
 *     principal, tenant, client_id, credential_id, auth_method, event, tool, upstream, args_json,
 *     decision, reasons_json, scope, outcome, error_code, latency_ms, bytes_in, bytes_out, salt,
 *     commitments_json, erased)  — indexes on (principal, seq), (time), (tool, seq), (decision, seq)
 *   audit_checkpoints(seq INTEGER PRIMARY KEY, hash, time, key_id, signature)
 *   audit_seals(kind 'head' | 'anchor' PRIMARY KEY, seq, hash, time, key_id, signature)
 *   schema_migrations(component 'audit' PRIMARY KEY, version) — src/migrate; files from before it
 *     kept one row per version, now in schema_migrations_by_version
 * Migration 2: audit_records.erasure_json (the signed erasure statement of an `audit-erased` event).
 *
 * Migration 3:
 *   audit_open_intents(correlation_id PRIMARY KEY, seq) — the `tool-intent` records whose
 *     `tool-call` record has not been appended yet; kept in the append transaction, so the
 *     start-up recovery reads the few open calls instead of scanning the chain.
 *
 * The log's batches are committed by a writer thread with its own connection (`appendAfter`,
 * sqlite-writer-thread.ts), so the fsync does not block the event loop; see DESIGN.md.
 *
 * Several processes may write one file (the CLI beside a running gateway): every write is one
 * `BEGIN IMMEDIATE` transaction that reads the chain state and appends after it, so writers are
 * serialised by SQLite's write lock and never seal against a stale position.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import type { Seal } from './checkpoint.js';
import { migrate } from '../migrate/index.js';
import { AuditError } from './errors.js';
import {
  CALL_END_EVENTS,
  type AuditArgs,
  type AuditErasure,
  type AuditRecord,
  type Commitments,
} from './record.js';
import type {
  AppendAfterResult,
  AuditBatch,
  AuditQuery,
  AuditStore,
  BatchBuilder,
  ChainState,
} from './store.js';
import { startWriterThread, type WriterThread } from './sqlite-writer-thread.js';

export const AUDIT_MIGRATIONS: readonly string[] = [
  `CREATE TABLE audit_records (
     seq INTEGER PRIMARY KEY,
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
     latency_ms REAL NOT NULL,
     bytes_in INTEGER NOT NULL,
     bytes_out INTEGER NOT NULL,
     salt TEXT,
     commitments_json TEXT NOT NULL,
     erased INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX audit_records_principal ON audit_records (principal, seq);
   CREATE INDEX audit_records_time ON audit_records (time);
   CREATE INDEX audit_records_tool ON audit_records (tool, seq);
   CREATE INDEX audit_records_decision ON audit_records (decision, seq);
   CREATE TABLE audit_checkpoints (
     seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, time TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL
   );
   CREATE TABLE audit_seals (
     kind TEXT PRIMARY KEY CHECK (kind IN ('head', 'anchor')),
     seq INTEGER NOT NULL, hash TEXT NOT NULL, time TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL
   );`,
  `ALTER TABLE audit_records ADD COLUMN erasure_json TEXT;`,
  `CREATE TABLE audit_open_intents (correlation_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);`,
  // People's own upstream connections (issue 13): which one a call used, erasable like the rest.
  `ALTER TABLE audit_records ADD COLUMN connection_id TEXT;
   ALTER TABLE audit_records ADD COLUMN upstream_subject TEXT;`,
];

export interface RecordRow {
  seq: number;
  time: string;
  prev_hash: string;
  hash: string;
  correlation_id: string;
  session_id: string | null;
  principal: string | null;
  tenant: string | null;
  client_id: string | null;
  credential_id: string | null;
  auth_method: string | null;
  connection_id: string | null;
  upstream_subject: string | null;
  event: string;
  tool: string | null;
  upstream: string | null;
  args_json: string | null;
  decision: string;
  reasons_json: string;
  scope: string | null;
  outcome: string;
  error_code: string | null;
  latency_ms: number;
  bytes_in: number;
  bytes_out: number;
  salt: string | null;
  commitments_json: string;
  erased: number;
  erasure_json: string | null;
}

interface SealRow {
  seq: number;
  hash: string;
  time: string;
  key_id: string;
  signature: string;
}

export interface SqliteAuditStoreOptions {
  /** Path of the database file, normally `<dataDir>/audit.db`. */
  readonly file: string;
}

/** The SQLite store, with its writer thread (`appendAfter`) exposed for start-up and tests. */
export interface SqliteAuditStore extends AuditStore {
  /** Starts the writer thread if it is not running; resolves once it takes `appendAfter`. */
  writerReady(): Promise<void>;
}

export function openSqliteAuditStore(options: SqliteAuditStoreOptions): SqliteAuditStore {
  const isNew = !existsSync(options.file);
  let db: Database.Database;
  try {
    db = new Database(options.file);
  } catch (err) {
    throw new AuditError('storage-failure', 'cannot open the audit database', {
      detail: options.file,
      cause: err,
    });
  }
  // The audit log holds personal data: owner-only, like the keys.
  if (isNew) chmodSync(options.file, 0o600);
  configureConnection(db);
  try {
    migrate(db, { component: 'audit', migrations: AUDIT_MIGRATIONS, legacy: 'version-rows' });
  } catch (err) {
    db.close();
    const newer = /newer than this Portcullis/.test(String(err));
    throw new AuditError(
      'storage-failure',
      newer
        ? 'the audit database has a schema newer than this Portcullis; upgrade Portcullis'
        : 'cannot migrate the audit database',
      { detail: `${options.file}: ${String(err)}`, cause: err },
    );
  }

  const writer = prepareWriter(db);
  const { chainState, writeBatch, readSeal } = writer;
  /** The writer thread, started on the first `appendAfter` (sqlite-writer.ts). */
  let thread: WriterThread | undefined;
  const unerasedOf = db.prepare<[string], { seq: number }>(
    'SELECT seq FROM audit_records WHERE principal = ? AND erased = 0 ORDER BY seq',
  );
  const eraseOf = db.prepare(
    `UPDATE audit_records SET session_id = NULL, principal = NULL, tenant = NULL, client_id = NULL,
     credential_id = NULL, args_json = NULL, connection_id = NULL, upstream_subject = NULL, salt = NULL,
     erased = 1 WHERE principal = ? AND erased = 0`,
  );

  const appendTx = db.transaction((build: BatchBuilder) => {
    const state = chainState();
    const batch = build(state);
    if (batch) writeBatch(state, batch);
    return batch;
  });

  const eraseTx = db.transaction(
    (principal: string, build: (state: ChainState, erased: readonly number[]) => AuditBatch) => {
      const state = chainState();
      const seqs = unerasedOf.all(principal).map((r) => r.seq);
      if (seqs.length === 0) return seqs;
      eraseOf.run(principal);
      writeBatch(state, build(state, seqs));
      return seqs;
    },
  );

  const pruneTx = db.transaction((anchor: Seal) => {
    const deleted = db.prepare('DELETE FROM audit_records WHERE seq <= ?').run(anchor.seq).changes;
    db.prepare('DELETE FROM audit_open_intents WHERE seq <= ?').run(anchor.seq);
    db.prepare('DELETE FROM audit_checkpoints WHERE seq < ?').run(anchor.seq);
    writer.upsertSeal.run('anchor', anchor.seq, anchor.hash, anchor.time, anchor.keyId, anchor.signature);
    return deleted;
  });

  return {
    appendBatch(build) {
      return attempt('cannot commit audit records', () => appendTx.immediate(build));
    },
    writerReady() {
      thread ??= startWriterThread(options.file);
      return thread.ready();
    },
    async appendAfter(expected, batch) {
      thread ??= startWriterThread(options.file);
      try {
        return await thread.appendAfter(expected, batch);
      } catch (err) {
        if (err instanceof AuditError) throw err;
        throw new AuditError('storage-failure', 'cannot commit audit records', {
          detail: String(err),
          cause: err,
        });
      }
    },
    readFrom(fromSeq, limit) {
      return attempt('cannot read audit records', () =>
        db
          .prepare<[number, number], RecordRow>(
            'SELECT * FROM audit_records WHERE seq >= ? ORDER BY seq LIMIT ?',
          )
          .all(fromSeq, limit)
          .map(fromRow),
      );
    },
    query(query: AuditQuery) {
      return attempt('cannot query audit records', () => {
        const where: string[] = [];
        const params: Record<string, string | number> = { limit: query.limit };
        const add = (sql: string, name: string, value: string | number | undefined) => {
          if (value === undefined) return;
          where.push(sql);
          params[name] = value;
        };
        add('principal = @principal', 'principal', query.principal);
        add('time >= @since', 'since', query.since);
        add('time < @until', 'until', query.until);
        add('tool = @tool', 'tool', query.tool);
        add('decision = @decision', 'decision', query.decision);
        add('outcome = @outcome', 'outcome', query.outcome);
        add('client_id = @clientId', 'clientId', query.clientId);
        add('upstream = @upstream', 'upstream', query.upstream);
        add(
          'EXISTS (SELECT 1 FROM json_each(reasons_json) WHERE json_each.value = @reason)',
          'reason',
          query.reason,
        );
        add('seq > @afterSeq', 'afterSeq', query.afterSeq);
        const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
        const order = query.newest ? 'DESC' : 'ASC';
        const rows = db
          .prepare<[Record<string, string | number>], RecordRow>(
            `SELECT * FROM audit_records ${filter} ORDER BY seq ${order} LIMIT @limit`,
          )
          .all(params)
          .map(fromRow);
        return query.newest ? rows.reverse() : rows;
      });
    },
    checkpoints() {
      return attempt('cannot read audit checkpoints', () =>
        db
          .prepare<[], SealRow>(
            'SELECT seq, hash, time, key_id, signature FROM audit_checkpoints ORDER BY seq',
          )
          .all()
          .map(fromSealRow),
      );
    },
    head: () => attempt('cannot read the audit head', () => optionalSeal(readSeal.get('head'))),
    anchor: () => attempt('cannot read the audit anchor', () => optionalSeal(readSeal.get('anchor'))),
    prune(anchor) {
      return attempt('cannot prune audit records', () => pruneTx.immediate(anchor));
    },
    erasePrincipal(principal, build) {
      return attempt('cannot erase audit records', () => eraseTx.immediate(principal, build));
    },
    openIntents() {
      return attempt('cannot read open audit intents', () =>
        db
          .prepare<[], RecordRow>(
            `SELECT r.* FROM audit_open_intents o JOIN audit_records r ON r.seq = o.seq ORDER BY r.seq`,
          )
          .all()
          .map(fromRow),
      );
    },
    async close() {
      const stopping = thread?.close();
      thread = undefined;
      await stopping;
      return attempt('cannot close the audit database', () => {
        db.close();
      });
    },
  };
}

/** The settings of every connection to the audit file (durability: module comment). */
export function configureConnection(db: Database.Database): void {
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
}

/**
 * The statements that extend the chain, on one connection: the main thread's, or the writer
 * thread's (sqlite-writer.ts). Both use exactly these checks.
 */
export function prepareWriter(db: Database.Database) {
  const insertRecord =
    db.prepare(`INSERT INTO audit_records (seq, time, prev_hash, hash, correlation_id, session_id,
    principal, tenant, client_id, credential_id, auth_method, event, tool, upstream, args_json, decision, reasons_json,
    scope, outcome, error_code, latency_ms, bytes_in, bytes_out, salt, commitments_json, erased, erasure_json,
    connection_id, upstream_subject)
    VALUES (@seq, @time, @prev_hash, @hash, @correlation_id, @session_id, @principal, @tenant, @client_id,
    @credential_id, @auth_method, @event, @tool, @upstream, @args_json, @decision, @reasons_json, @scope, @outcome,
    @error_code, @latency_ms, @bytes_in, @bytes_out, @salt, @commitments_json, @erased, @erasure_json,
    @connection_id, @upstream_subject)`);
  const insertCheckpoint = db.prepare(
    'INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?)',
  );
  const upsertSeal = db.prepare(`INSERT INTO audit_seals (kind, seq, hash, time, key_id, signature)
    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
    time = excluded.time, key_id = excluded.key_id, signature = excluded.signature`);
  const lastSeq = db.prepare<[], { seq: number }>(
    "SELECT COALESCE((SELECT MAX(seq) FROM audit_records), (SELECT seq FROM audit_seals WHERE kind = 'anchor'), 0) AS seq",
  );
  const lastCheckpoint = db.prepare<[], { seq: number }>(
    'SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_checkpoints',
  );
  const openIntent = db.prepare<[string, number]>(
    'INSERT OR REPLACE INTO audit_open_intents (correlation_id, seq) VALUES (?, ?)',
  );
  const closeIntent = db.prepare<[string]>('DELETE FROM audit_open_intents WHERE correlation_id = ?');
  const readSeal = db.prepare<[string], SealRow>(
    'SELECT seq, hash, time, key_id, signature FROM audit_seals WHERE kind = ?',
  );
  /** Only inside a transaction: the chain as it stands, for a writer to extend. */
  const chainState = (): ChainState => ({
    head: optionalSeal(readSeal.get('head')),
    anchor: optionalSeal(readSeal.get('anchor')),
    lastSeq: lastSeq.get()?.seq ?? 0,
    lastCheckpointSeq: lastCheckpoint.get()?.seq ?? 0,
  });

  /** Only inside a transaction: writes a batch built against `state`, refusing one that would fork. */
  const writeBatch = (state: ChainState, batch: AuditBatch) => {
    const first = batch.records[0];
    const last = batch.records.at(-1)?.seq ?? state.lastSeq;
    if ((first && first.seq !== state.lastSeq + 1) || batch.head.seq !== last) {
      // A builder that ignored the state it was given: refuse rather than fork the chain.
      throw new AuditError('storage-failure', 'audit chain position conflict', {
        detail: `batch ${first?.seq ?? '-'}..${last} with head ${batch.head.seq}, store at ${state.lastSeq}`,
      });
    }
    for (const record of batch.records) {
      insertRecord.run(toRow(record));
      if (record.event === 'tool-intent') openIntent.run(record.correlationId, record.seq);
      else if (CALL_END_EVENTS.has(record.event)) closeIntent.run(record.correlationId);
    }
    for (const cp of batch.checkpoints)
      insertCheckpoint.run(cp.seq, cp.hash, cp.time, cp.keyId, cp.signature);
    const h = batch.head;
    upsertSeal.run('head', h.seq, h.hash, h.time, h.keyId, h.signature);
  };

  /** `AuditStore.appendAfter` on this connection, synchronously: the batch, or nothing if moved. */
  const appendAfter = db.transaction((expected: Seal, batch: AuditBatch): AppendAfterResult => {
    const state = chainState();
    if (state.lastSeq !== expected.seq || !state.head || !sameSeal(state.head, expected))
      return 'not-written';
    writeBatch(state, batch);
    return 'committed';
  });

  return { chainState, writeBatch, appendAfter, readSeal, upsertSeal };
}

/** Every field equal, the signature included. */
export function sameSeal(a: Seal, b: Seal): boolean {
  return (
    a.seq === b.seq &&
    a.hash === b.hash &&
    a.time === b.time &&
    a.keyId === b.keyId &&
    a.signature === b.signature
  );
}

export function toRow(r: AuditRecord): RecordRow {
  return {
    seq: r.seq,
    time: r.time,
    prev_hash: r.prevHash,
    hash: r.hash,
    correlation_id: r.correlationId,
    session_id: r.sessionId ?? null,
    principal: r.principal ?? null,
    tenant: r.tenant ?? null,
    client_id: r.clientId ?? null,
    credential_id: r.credentialId ?? null,
    auth_method: r.authMethod ?? null,
    connection_id: r.connectionId ?? null,
    upstream_subject: r.upstreamSubject ?? null,
    event: r.event,
    tool: r.tool ?? null,
    upstream: r.upstream ?? null,
    args_json: r.args === undefined ? null : JSON.stringify(r.args),
    decision: r.decision,
    reasons_json: JSON.stringify(r.reasons),
    scope: r.scope ?? null,
    outcome: r.outcome,
    error_code: r.errorCode ?? null,
    latency_ms: r.latencyMs,
    bytes_in: r.bytesIn,
    bytes_out: r.bytesOut,
    salt: r.salt ?? null,
    commitments_json: JSON.stringify(r.commitments),
    erased: r.erased ? 1 : 0,
    erasure_json: r.erasure ? JSON.stringify(r.erasure) : null,
  };
}

/** Rows back to records; a NULL column is an absent field, as it was before storage. */
export function fromRow(row: RecordRow): AuditRecord {
  const record: Record<string, unknown> = {
    seq: row.seq,
    time: row.time,
    prevHash: row.prev_hash,
    hash: row.hash,
    correlationId: row.correlation_id,
    sessionId: row.session_id,
    principal: row.principal,
    tenant: row.tenant,
    clientId: row.client_id,
    credentialId: row.credential_id,
    authMethod: row.auth_method,
    connectionId: row.connection_id,
    upstreamSubject: row.upstream_subject,
    event: row.event,
    tool: row.tool,
    upstream: row.upstream,
    args: row.args_json === null ? null : (JSON.parse(row.args_json) as AuditArgs),
    decision: row.decision,
    reasons: JSON.parse(row.reasons_json) as string[],
    scope: row.scope,
    outcome: row.outcome,
    errorCode: row.error_code,
    latencyMs: row.latency_ms,
    bytesIn: row.bytes_in,
    bytesOut: row.bytes_out,
    salt: row.salt,
    commitments: JSON.parse(row.commitments_json) as Commitments,
    erased: row.erased ? true : null,
    erasure: row.erasure_json === null ? null : (JSON.parse(row.erasure_json) as AuditErasure),
  };
  for (const key of Object.keys(record)) if (record[key] === null) delete record[key];
  return record as unknown as AuditRecord;
}

function fromSealRow(row: SealRow): Seal {
  return { seq: row.seq, hash: row.hash, time: row.time, keyId: row.key_id, signature: row.signature };
}

function optionalSeal(row: SealRow | undefined): Seal | undefined {
  return row ? fromSealRow(row) : undefined;
}

/** Runs synchronous SQLite work as a promise, mapping driver errors to a stable code. */
function attempt<T>(message: string, work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    if (err instanceof AuditError) return Promise.reject(err);
    return Promise.reject(new AuditError('storage-failure', message, { detail: String(err), cause: err }));
  }
}
