/**
 * The audit log: assigns each entry its place in the hash chain and commits entries in groups.
 *
 * Group commit: `append` queues the entry; a flush takes everything queued, seals it into records
 * (seq, prevHash, hash), signs the new head (and any checkpoint due) and hands the batch to the store
 * as one transaction. Entries appended while a batch is being written wait for the next one. Each
 * `append` promise resolves only after its batch's transaction is durably committed, and rejects if
 * it is not — so a caller that awaits `append` before answering its client never acknowledges a
 * request whose record could be lost. Secondary sinks are fed after the commit and never delay it.
 */
import { randomBytes } from 'node:crypto';
import { GENESIS_HASH, sealRecord } from './chain.js';
import { checkpointsDue, signSeal, verifySeal, type Seal } from './checkpoint.js';
import { AuditError } from './errors.js';
import type { AuditKeys } from './keys.js';
import type { AuditEntry, AuditRecord } from './record.js';
import type { AuditSink } from './sinks/sink.js';
import type { Writable } from 'node:stream';
import { exportJsonl } from './export-jsonl.js';
import type { AuditQuery, AuditStore } from './store.js';

export interface AuditLogOptions {
  readonly store: AuditStore;
  readonly keys: AuditKeys;
  readonly now?: () => Date;
  /** Sign a checkpoint every this many records. */
  readonly checkpointEvery?: number;
  readonly sinks?: readonly AuditSink[];
  /** Called when a secondary sink throws; the primary log is unaffected. */
  readonly onSinkError?: (sink: string, err: unknown) => void;
}

export interface AuditLog {
  /** Resolves with the committed record once it is durable; rejects with an AuditError otherwise. */
  append(entry: AuditEntry): Promise<AuditRecord>;
  query(query: AuditQuery): Promise<AuditRecord[]>;
  /** Writes every matching record to `out` as JSON lines; returns how many. */
  exportJsonl(filters: Omit<AuditQuery, 'limit' | 'afterSeq' | 'newest'>, out: Writable): Promise<number>;
  /** Erases a principal's personal values (see DESIGN.md); returns how many records were erased. */
  erase(target: { readonly principal: string }): Promise<number>;
  /** Removes records older than `olderThanMs` up to the newest signed checkpoint among them. */
  prune(olderThanMs?: number): Promise<{ deleted: number; anchorSeq: number | undefined }>;
  /** Entries waiting for or inside a commit (for the queue-depth gauge). */
  queueDepth(): number;
  /** Flushes the queue, writes a checkpoint at the head and closes sinks. The store stays open. */
  close(): Promise<void>;
}

export const DEFAULT_CHECKPOINT_EVERY = 1000;
export const DEFAULT_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
/** Caps one transaction, so a burst cannot build a batch whose commit stalls everything behind it. */
const MAX_BATCH = 1000;

interface Pending {
  readonly entry: AuditEntry;
  readonly time: string;
  readonly resolve: (record: AuditRecord) => void;
  readonly reject: (err: unknown) => void;
}

export async function createAuditLog(options: AuditLogOptions): Promise<AuditLog> {
  const { store, keys } = options;
  const now = options.now ?? (() => new Date());
  const every = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  if (!Number.isInteger(every) || every < 1) {
    throw new AuditError('invalid-argument', 'checkpointEvery must be a positive integer');
  }
  const sinks = options.sinks ?? [];

  const tip = await loadTip(store, keys);
  let lastCheckpointSeq = (await store.checkpoints()).at(-1)?.seq ?? 0;
  const queue: Pending[] = [];
  let inFlight = 0;
  let draining: Promise<void> | undefined;
  let closed = false;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const items = queue.splice(0, MAX_BATCH);
      inFlight = items.length;
      try {
        await commit(items);
      } catch (err) {
        // Signing or sealing failed outright: nothing was committed. (Settled promises ignore this.)
        const failure = new AuditError('storage-failure', 'audit commit failed', { cause: err });
        for (const item of items) item.reject(failure);
      }
      inFlight = 0;
    }
    draining = undefined;
  }

  /**
   * Whether another writer — the CLI recording an admin change, in its own process — has
   * extended the chain past this log's tip; if so the tip follows the stored (signed) head.
   * The store refuses a batch that does not start right after its last record, so nothing is
   * forked: the refused batch is sealed again after the new head.
   */
  async function followMovedHead(): Promise<boolean> {
    const current = await loadTip(store, keys).catch(() => undefined);
    if (!current || current.seq <= tip.seq) return false;
    tip.seq = current.seq;
    tip.hash = current.hash;
    return true;
  }

  async function commit(items: Pending[], retried = false): Promise<void> {
    let seq = tip.seq;
    let prevHash = tip.hash;
    const records: AuditRecord[] = [];
    const owners: Pending[] = [];
    for (const item of items) {
      try {
        const record = sealRecord(item.entry, {
          seq: seq + 1,
          prevHash,
          time: item.time,
          salt: randomBytes(32).toString('hex'),
        });
        records.push(record);
        owners.push(item);
        seq = record.seq;
        prevHash = record.hash;
      } catch (err) {
        // An entry that cannot be encoded (e.g. a NaN in a payload) fails alone; it takes no seq.
        item.reject(
          new AuditError('invalid-argument', 'audit entry cannot be encoded', {
            detail: String(err),
            cause: err,
          }),
        );
      }
    }
    if (records.length === 0) return;
    const time = now().toISOString();
    const checkpoints = checkpointsDue(tip.seq, seq, every).map((at) => {
      const record = records[at - tip.seq - 1] as AuditRecord;
      return signSeal('checkpoint', { seq: at, hash: record.hash, time }, keys);
    });
    const head = signSeal('head', { seq, hash: prevHash, time }, keys);
    try {
      await store.appendBatch({ records, head, checkpoints });
    } catch (err) {
      if (!retried && (await followMovedHead())) return commit(owners, true);
      const failure =
        err instanceof AuditError
          ? err
          : new AuditError('storage-failure', 'audit commit failed', { cause: err });
      for (const owner of owners) owner.reject(failure);
      return;
    }
    tip.seq = seq;
    tip.hash = prevHash;
    lastCheckpointSeq = checkpoints.at(-1)?.seq ?? lastCheckpointSeq;
    records.forEach((record, i) => owners[i]?.resolve(record));
    for (const sink of sinks) {
      try {
        sink.write(records);
      } catch (err) {
        options.onSinkError?.(sink.name, err);
      }
    }
  }

  return {
    append(entry) {
      if (closed) return Promise.reject(new AuditError('storage-failure', 'the audit log is closed'));
      return new Promise<AuditRecord>((resolve, reject) => {
        queue.push({ entry, time: now().toISOString(), resolve, reject });
        // setImmediate lets every append made in this turn of the event loop join one batch.
        draining ??= new Promise<void>((started) => setImmediate(started)).then(drain);
      });
    },
    query: (query) => store.query(query),
    exportJsonl: (filters, out) => exportJsonl(store, filters, out),
    erase: (target) => store.erasePrincipal(target.principal),
    async prune(olderThanMs = DEFAULT_RETENTION_MS) {
      await draining;
      const cutoff = new Date(now().getTime() - olderThanMs).toISOString();
      const anchor = await store.anchor();
      // A checkpoint is signed after every record it covers was appended, so all records up to a
      // checkpoint older than the cutoff are older than the cutoff too.
      const candidates = (await store.checkpoints()).filter(
        (cp) => cp.time <= cutoff && cp.seq > (anchor?.seq ?? 0),
      );
      const last = candidates.at(-1);
      if (!last) return { deleted: 0, anchorSeq: anchor?.seq };
      const newAnchor = signSeal(
        'anchor',
        { seq: last.seq, hash: last.hash, time: now().toISOString() },
        keys,
      );
      return { deleted: await store.prune(newAnchor), anchorSeq: last.seq };
    },
    queueDepth: () => queue.length + inFlight,
    async close() {
      closed = true;
      await draining;
      // Never sign a head behind records another writer added meanwhile.
      await followMovedHead();
      if (tip.seq > lastCheckpointSeq) {
        const time = now().toISOString();
        const checkpoint = signSeal('checkpoint', { seq: tip.seq, hash: tip.hash, time }, keys);
        const head = signSeal('head', { seq: tip.seq, hash: tip.hash, time }, keys);
        await store.appendBatch({ records: [], head, checkpoints: [checkpoint] });
        lastCheckpointSeq = tip.seq;
      }
      await Promise.all(sinks.map((sink) => sink.close()));
    },
  };
}

/**
 * Where the next record goes: after the signed head. A missing or badly signed head while records
 * exist means the store was tampered with or damaged; the log refuses to extend such a chain.
 */
async function loadTip(store: AuditStore, keys: AuditKeys): Promise<{ seq: number; hash: string }> {
  const [head, anchor] = await Promise.all([store.head(), store.anchor()]);
  if (head) {
    if (!verifySeal('head', head, keys.publicKey)) {
      throw new AuditError(
        'storage-failure',
        'the audit head signature is invalid; run `portcullis audit verify`',
      );
    }
    return { seq: head.seq, hash: head.hash };
  }
  const first = await store.readFrom(1, 1);
  if (first.length > 0) {
    throw new AuditError('storage-failure', 'the audit head is missing; run `portcullis audit verify`');
  }
  return anchorTip(anchor);
}

function anchorTip(anchor: Seal | undefined): { seq: number; hash: string } {
  return { seq: anchor?.seq ?? 0, hash: anchor?.hash ?? GENESIS_HASH };
}
