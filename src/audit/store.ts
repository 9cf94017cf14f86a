/**
 * The narrow storage contract of the audit log. The log (not the store) computes hashes and seals;
 * a store only keeps them, atomically. Implementations: SQLite (default), memory (tests); a
 * PostgreSQL one must pass the same contract suite (store.contract.test.ts).
 */
import type { Seal } from './checkpoint.js';
import type { AuditDecision, AuditRecord } from './record.js';

/** One group commit: the records, the new signed head and any checkpoints due, in one transaction. */
export interface AuditBatch {
  readonly records: readonly AuditRecord[];
  readonly head: Seal;
  readonly checkpoints: readonly Seal[];
}

export interface AuditQuery {
  readonly principal?: string;
  /** Inclusive lower bound on `time` (ISO-8601 UTC). */
  readonly since?: string;
  /** Exclusive upper bound on `time` (ISO-8601 UTC). */
  readonly until?: string;
  readonly tool?: string;
  readonly decision?: AuditDecision;
  /** Only records with a greater seq (for paging). */
  readonly afterSeq?: number;
  /** Maximum number of records returned. */
  readonly limit: number;
  /** Return the newest `limit` matches (still in ascending seq order) instead of the oldest. */
  readonly newest?: boolean;
}

export interface AuditStore {
  /**
   * Appends the batch and replaces the head in a single transaction. Resolves only once the
   * transaction is durably committed (the durability guarantee rests on this); rejects, with nothing
   * written, otherwise.
   */
  appendBatch(batch: AuditBatch): Promise<void>;
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
  /** Drops personal values and salts of the principal's records, marking them erased. Returns the count. */
  erasePrincipal(principal: string): Promise<number>;
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
