/**
 * The audit log: assigns each entry its place in the hash chain and commits entries in groups.
 *
 * Group commit: `append` queues the entry; a flush takes everything queued and hands the store a
 * builder that, inside the store's write transaction, reads where the chain stands, seals the
 * entries into records (seq, prevHash, hash) after it, and signs the new head (and any checkpoint
 * due). Because the position is read inside the transaction rather than remembered, several
 * processes can append to one file — the CLI beside a running gateway — without forking the chain
 * or failing each other's batches. Entries appended while a batch is being written wait for the
 * next one. Each `append` promise resolves only after its batch's transaction is durably committed,
 * and rejects if it is not — so a caller that awaits `append` before answering its client never
 * acknowledges a request whose record could be lost. Secondary sinks are fed after the commit and
 * never delay it.
 */
import { GENESIS_HASH, randomSalt, sealRecord } from './chain.js';
import { checkpointsDue, signSeal, verifySeal, type Seal } from './checkpoint.js';
import { signErasure } from './erasure.js';
import { AuditError } from './errors.js';
import type { AuditKeys } from './keys.js';
import type { AuditEntry, AuditRecord } from './record.js';
import type { AuditSink } from './sinks/sink.js';
import type { Writable } from 'node:stream';
import { exportJsonl } from './export-jsonl.js';
import type { AuditBatch, AuditQuery, AuditStore, ChainState } from './store.js';

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
  /**
   * Erases a principal's personal values (see DESIGN.md) and, in the same transaction, appends the
   * signed `audit-erased` event naming the erased seqs, with `by` as who erased them. Returns how
   * many records were erased; none erased records nothing.
   */
  erase(target: { readonly principal: string }, by: ErasureActor): Promise<number>;
  /** Removes records older than `olderThanMs` up to the newest signed checkpoint among them. */
  prune(olderThanMs?: number): Promise<{ deleted: number; anchorSeq: number | undefined }>;
  /** Entries waiting for or inside a commit (for the queue-depth gauge). */
  queueDepth(): number;
  /** Flushes the queue, writes a checkpoint at the head and closes sinks. The store stays open. */
  close(): Promise<void>;
}

/** Who erased: the identity fields of the erasure event (the rest of the event is fixed). */
export type ErasureActor = Pick<
  AuditEntry,
  'correlationId' | 'principal' | 'tenant' | 'credentialId' | 'authMethod'
>;

const DEFAULT_CHECKPOINT_EVERY = 1000;
const DEFAULT_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
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

  /** The last head this process signed: it needs no second verification. */
  let signedHead: Seal | undefined;
  /**
   * The head this process knows to be the stored one (it read and verified it, or committed it).
   * The next batch is sealed after it without reading the chain first, and committed with
   * `store.appendAfter`, which writes it only if the stored head is still exactly this one.
   */
  let committedHead: Seal | undefined;
  /** The last seq handed to the sinks; records other processes append later are fed to them too. */
  let sunk = 0;
  // Refuse, at start, to extend a chain whose head is missing or forged; every commit checks again.
  await store.appendBatch((state) => {
    sunk = tipOf(state).seq;
    committedHead = state.head;
    return undefined;
  });
  const queue: Pending[] = [];
  let inFlight = 0;
  let draining: Promise<void> | undefined;
  let closed = false;

  /**
   * Where the next record goes: after the signed head. A missing or badly signed head while records
   * exist, or records beyond the head, mean the store was tampered with or damaged; the log refuses
   * to extend such a chain. A head this process signed itself is not verified again.
   */
  function tipOf(state: ChainState): { seq: number; hash: string } {
    const { head, anchor } = state;
    if (head) {
      if (!sameSeal(head, signedHead) && !verifySeal('head', head, keys.publicKey)) {
        throw new AuditError(
          'storage-failure',
          'the audit head signature is invalid; run `portcullis audit verify`',
        );
      }
      if (state.lastSeq !== head.seq) {
        throw new AuditError(
          'storage-failure',
          'the audit log has records beyond its signed head; run `portcullis audit verify`',
        );
      }
      return { seq: head.seq, hash: head.hash };
    }
    if (state.lastSeq > (anchor?.seq ?? 0)) {
      throw new AuditError('storage-failure', 'the audit head is missing; run `portcullis audit verify`');
    }
    return { seq: anchor?.seq ?? 0, hash: anchor?.hash ?? GENESIS_HASH };
  }

  /** Seals `entries` after the chain's tip and signs the head and the checkpoints due. */
  function seal(
    state: ChainState,
    entries: readonly { entry: AuditEntry; time: string; erased?: readonly number[] }[],
    onUnencodable: (index: number, err: unknown) => void,
  ): { batch: AuditBatch; sealed: number[] } | undefined {
    const tip = tipOf(state);
    let seq = tip.seq;
    let prevHash = tip.hash;
    const records: AuditRecord[] = [];
    const sealed: number[] = [];
    entries.forEach(({ entry, time, erased }, i) => {
      try {
        const at = { seq: seq + 1, prevHash, time, salt: randomSalt() };
        const record = sealRecord(entry, at, erased && signErasure(at, erased, keys));
        records.push(record);
        sealed.push(i);
        seq = record.seq;
        prevHash = record.hash;
      } catch (err) {
        // An entry that cannot be encoded (e.g. a NaN in a payload) fails alone; it takes no seq.
        onUnencodable(i, err);
      }
    });
    if (records.length === 0) return undefined;
    const time = now().toISOString();
    const checkpoints = checkpointsDue(tip.seq, seq, every).map((at) => {
      const record = records[at - tip.seq - 1] as AuditRecord;
      return signSeal('checkpoint', { seq: at, hash: record.hash, time }, keys);
    });
    const head = signSeal('head', { seq, hash: prevHash, time }, keys);
    signedHead = head;
    return { batch: { records, head, checkpoints }, sealed };
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const items = queue.splice(0, MAX_BATCH);
      inFlight = items.length;
      try {
        await commit(items);
      } catch (err) {
        // Nothing was committed. (Promises already settled, e.g. unencodable entries, ignore this.)
        const failure =
          err instanceof AuditError
            ? err
            : new AuditError('storage-failure', 'audit commit failed', { cause: err });
        for (const item of items) item.reject(failure);
      }
      inFlight = 0;
    }
    draining = undefined;
  }

  async function commit(items: Pending[]): Promise<void> {
    const unencodable = (i: number, err: unknown) =>
      items[i]?.reject(
        new AuditError('invalid-argument', 'audit entry cannot be encoded', {
          detail: String(err),
          cause: err,
        }),
      );
    let owners: Pending[] = [];
    let committed: AuditBatch | undefined;
    const expected = committedHead;
    committedHead = undefined;
    if (store.appendAfter && expected) {
      // Fast path: sealed after the head this process committed, written only if it still is.
      const state = { head: expected, anchor: undefined, lastSeq: expected.seq, lastCheckpointSeq: 0 };
      const result = seal(state, items, unencodable);
      if (!result) {
        committedHead = expected;
        return;
      }
      if ((await store.appendAfter(expected, result.batch)) === 'committed') {
        committed = result.batch;
        owners = result.sealed.map((i) => items[i] as Pending);
      }
      // 'not-written': another writer appended (or the head is not what this process left); the entries
      // are sealed again below against the chain as it stands, read and checked in the transaction.
      // (Also while the store's writer thread starts.)
    }
    committed ??= await store.appendBatch((state) => {
      const result = seal(state, items, unencodable);
      owners = result ? result.sealed.map((i) => items[i] as Pending) : [];
      return result?.batch;
    });
    inFlight = 0;
    if (!committed) return;
    committedHead = committed.head;
    committed.records.forEach((record, i) => owners[i]?.resolve(record));
    await feedSinks(committed.records);
  }

  /**
   * Hands committed records to the sinks in seq order. Records another process appended since this
   * one last wrote are read back from the store and handed over first, so a SIEM misses nothing
   * the CLI recorded (they reach it with this process's next batch).
   */
  async function feedSinks(records: readonly AuditRecord[]): Promise<void> {
    if (sinks.length === 0) return;
    const first = (records[0] as AuditRecord).seq;
    let batch: readonly AuditRecord[] = records;
    if (first > sunk + 1) {
      try {
        batch = [...(await store.readFrom(sunk + 1, first - sunk - 1)), ...records];
      } catch (err) {
        for (const sink of sinks) options.onSinkError?.(sink.name, err);
      }
    }
    sunk = (records.at(-1) as AuditRecord).seq;
    for (const sink of sinks) {
      try {
        sink.write(batch);
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
    async erase(target, by) {
      if (closed) throw new AuditError('storage-failure', 'the audit log is closed');
      await draining;
      committedHead = undefined;
      const entry: AuditEntry = {
        ...by,
        event: 'admin',
        decision: 'allow',
        reasons: ['audit-erased'],
        outcome: 'ok',
        latencyMs: 0,
        bytesIn: 0,
        bytesOut: 0,
      };
      let committed: AuditRecord | undefined;
      const erased = await store.erasePrincipal(target.principal, (state, seqs) => {
        const result = seal(state, [{ entry, time: now().toISOString(), erased: seqs }], (_i, err) => {
          throw err;
        });
        if (!result) throw new AuditError('invalid-argument', 'the erasure event cannot be encoded');
        committed = result.batch.records[0];
        return result.batch;
      });
      if (committed) await feedSinks([committed]);
      return erased.length;
    },
    async prune(olderThanMs = DEFAULT_RETENTION_MS) {
      await draining;
      committedHead = undefined;
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
      // A closing checkpoint at the head as it stands now, whoever appended last.
      await store.appendBatch((state) => {
        const tip = tipOf(state);
        if (tip.seq <= state.lastCheckpointSeq || !state.head) return undefined;
        const time = now().toISOString();
        const checkpoint = signSeal('checkpoint', { seq: tip.seq, hash: tip.hash, time }, keys);
        const head = signSeal('head', { seq: tip.seq, hash: tip.hash, time }, keys);
        return { records: [], head, checkpoints: [checkpoint] };
      });
      await Promise.all(sinks.map((sink) => sink.close()));
    },
  };
}

function sameSeal(a: Seal, b: Seal | undefined): boolean {
  return (
    b !== undefined &&
    a.seq === b.seq &&
    a.hash === b.hash &&
    a.time === b.time &&
    a.keyId === b.keyId &&
    a.signature === b.signature
  );
}
