/**
 * The narrow storage contract of the audit log. The log (not the store) computes hashes and seals;
 * a store only keeps them, atomically. Implementations: SQLite (default), memory (tests); a
 * PostgreSQL one must pass the same contract suite (store.contract.test.ts).
 */
import type { Seal } from './checkpoint.js';
import type { AuditDecision, AuditOutcome, AuditRecord } from './record.js';

/** One group commit: the records, the new signed head and any checkpoints due, in one transaction. */
export interface AuditBatch {
  readonly records: readonly AuditRecord[];
  readonly head: Seal;
  readonly checkpoints: readonly Seal[];
}

/**
 * Where the chain stands, as read inside the write transaction that will extend it. Another
 * process (the CLI beside a running gateway) may have appended since this process last looked, so
 * a writer seals its records against this, never against what it remembers.
 */
export interface ChainState {
  readonly head: Seal | undefined;
  readonly anchor: Seal | undefined;
  /** The greatest stored seq, else the anchor's seq, else 0. */
  readonly lastSeq: number;
  /** The greatest checkpointed seq, else 0. */
  readonly lastCheckpointSeq: number;
}

/**
 * Builds the batch to commit from the chain state; `undefined` commits nothing. Called exactly once,
 * synchronously, inside the store's write transaction: whatever it returns is committed or nothing
 * is. A throw aborts the transaction.
 */
export type BatchBuilder = (state: ChainState) => AuditBatch | undefined;

export interface AuditQuery {
  readonly principal?: string;
  /** Inclusive lower bound on `time` (ISO-8601 UTC). */
  readonly since?: string;
  /** Exclusive upper bound on `time` (ISO-8601 UTC). */
  readonly until?: string;
  readonly tool?: string;
  readonly decision?: AuditDecision;
  readonly outcome?: AuditOutcome;
  readonly clientId?: string;
  readonly upstream?: string;
  /** Only records whose reasons include this one. */
  readonly reason?: string;
  /** Only records with a greater seq (for paging). */
  readonly afterSeq?: number;
  /** Maximum number of records returned. */
  readonly limit: number;
  /** Return the newest `limit` matches (still in ascending seq order) instead of the oldest. */
  readonly newest?: boolean;
}

/**
 * The answer of `appendAfter`: committed, or not written — because the chain is not where the
 * writer left it (another process appended, or an earlier batch of this writer failed), or because
 * the store cannot take the fast path just now (its writer thread is still starting).
 */
export type AppendAfterResult = 'committed' | 'not-written';

export interface AuditStore {
  /**
   * Optional fast path for a writer that sealed `batch` against the head it committed last
   * (`expected`), without reading the chain first. In one write transaction: if the stored head is
   * exactly `expected` (every field, signature included) and no record lies beyond it, appends the
   * batch and replaces the head, resolving `committed` once durably committed, as `appendBatch`;
   * otherwise writes nothing and resolves `not-written` (the writer then reseals with `appendBatch`).
   * A store may do this work off the caller's thread (SQLite: a writer thread, so the fsync does
   * not block the event loop).
   */
  appendAfter?(expected: Seal, batch: AuditBatch): Promise<AppendAfterResult>;
  /**
   * In one write transaction (which excludes every other writer, in this process or another): reads
   * the chain state, calls `build` with it, and appends the batch it returns and replaces the head.
   * Resolves with the committed batch only once the transaction is durably committed (the
   * durability guarantee rests on this); rejects, with nothing written, otherwise. A batch that does
   * not start right after the last stored record, or whose head is not its last record, is refused.
   */
  appendBatch(build: BatchBuilder): Promise<AuditBatch | undefined>;
  /** Up to `limit` records with seq >= `fromSeq`, in ascending seq order. */
  readFrom(fromSeq: number, limit: number): Promise<AuditRecord[]>;
  /** Matching records in ascending seq order. */
  query(query: AuditQuery): Promise<AuditRecord[]>;
  /** All checkpoints in ascending seq order. */
  checkpoints(): Promise<Seal[]>;
  head(): Promise<Seal | undefined>;
  anchor(): Promise<Seal | undefined>;
  /**
   * In one transaction: deletes records with seq <= anchor.seq and checkpoints before it, and makes
   * `anchor` the start of the chain. Returns how many records were deleted.
   */
  prune(anchor: Seal): Promise<number>;
  /**
   * In one write transaction: drops the personal values and salts of the principal's records not
   * yet erased, marking them erased, and appends the batch `build` returns for those seqs (the
   * erasure event that covers them). Nothing is changed, and `build` is not called, when the
   * principal has no such record. Resolves with the erased seqs, ascending.
   */
  erasePrincipal(
    principal: string,
    build: (state: ChainState, erased: readonly number[]) => AuditBatch,
  ): Promise<readonly number[]>;
  /**
   * `tool-intent` records that no `tool-call` record with the same correlation id follows yet,
   * in ascending seq order: calls begun and not (yet) finished. Pruned intents are gone.
   */
  openIntents(): Promise<AuditRecord[]>;
  close(): Promise<void>;
}

const PAGE = 500;

/** Every record from `fromSeq` on, paged so that no store cursor stays open between awaits. */
export async function* iterateRecords(store: AuditStore, fromSeq = 1): AsyncGenerator<AuditRecord> {
  let next = fromSeq;
  for (;;) {
    const page = await store.readFrom(next, PAGE);
    yield* page;
    const last = page.at(-1);
    if (!last || page.length < PAGE) return;
    next = last.seq + 1;
  }
}
