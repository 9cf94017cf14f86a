import { open } from 'node:fs/promises';
import type { AuditRecord } from '../record.js';

/**
 * A refusal that retrying will not change (an HTTP 4xx other than 408/425/429, a message larger
 * than the receiver takes). After `permanentAttempts` such refusals of the same batch, the batch
 * goes to the dead-letter file and delivery moves on, so one record a SIEM will never accept
 * cannot hold back every record after it.
 */
export class PermanentDeliveryError extends Error {
  override readonly name = 'PermanentDeliveryError';
}

export interface OrderedDeliveryOptions {
  /** Sends one batch; throws on failure (PermanentDeliveryError when retrying cannot help). */
  readonly deliver: (batch: readonly AuditRecord[], signal: AbortSignal) => Promise<void>;
  /** Reads committed records from the primary store (for catching up after an overflow). */
  readonly readFrom: (fromSeq: number, limit: number) => Promise<AuditRecord[]>;
  readonly maxQueue?: number;
  readonly batchSize?: number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How long `close` waits for delivery of what is queued. */
  readonly closeTimeoutMs?: number;
  /** JSON-lines file (0600, fsynced) for batches refused permanently; without one they are retried forever. */
  readonly deadLetterFile?: string;
  /** Permanent refusals of one batch before it is dead-lettered. Default 3. */
  readonly permanentAttempts?: number;
  readonly onFailure?: (err: unknown) => void;
  readonly onDeadLetter?: (records: readonly AuditRecord[], err: unknown) => void;
}

export interface OrderedDeliveryStats {
  readonly delivered: number;
  readonly failures: number;
  readonly deadLettered: number;
  readonly queued: number;
  readonly catchingUp: boolean;
}

export interface OrderedDelivery {
  readonly write: (records: readonly AuditRecord[]) => void;
  readonly stats: () => OrderedDeliveryStats;
  readonly close: () => Promise<void>;
}

/**
 * Delivers committed records to a remote receiver in seq order, at least once (a retried batch
 * may repeat records; receivers de-duplicate by `seq`). Shared by the webhook and syslog sinks.
 *
 * Back-pressure without loss: the in-memory queue is bounded. When a batch would overflow it (the
 * receiver is slow or down), the loop drops its in-memory *copies* and catches up from the primary
 * store through `readFrom`, from the first undelivered seq. The primary store is the spill: nothing
 * is dropped, memory stays bounded and the audit log's appends are never blocked. Failures are
 * retried with exponential back-off (capped) and counted.
 *
 * Limit: the delivery cursor lives in memory. Records not yet delivered when the process stops are
 * not re-sent by the next process (they remain in the primary store and `audit export`).
 */
export function deliverInOrder(options: OrderedDeliveryOptions): OrderedDelivery {
  const maxQueue = options.maxQueue ?? 10_000;
  const batchSize = options.batchSize ?? 100;
  const initialBackoff = options.initialBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  const permanentAttempts = options.permanentAttempts ?? 3;

  let queue: AuditRecord[] = [];
  /** Next seq to deliver; undefined until the first batch is seen. */
  let cursor: number | undefined;
  /** Seq the next `write` should start at; anything else is a gap to fill from the store. */
  let expected: number | undefined;
  let catchingUp = false;
  /** Set by a `write` that lands while a catch-up read is in flight (see `nextBatch`). */
  let wroteDuringRead = false;
  let delivered = 0;
  let failures = 0;
  let deadLettered = 0;
  let closing = false;
  let wake: (() => void) | undefined;
  const stop = new AbortController();

  function write(records: readonly AuditRecord[]): void {
    const first = records[0];
    const last = records.at(-1);
    if (!first || !last || closing) return;
    cursor ??= first.seq;
    if (!catchingUp && (first.seq !== (expected ?? first.seq) || queue.length + records.length > maxQueue)) {
      catchingUp = true;
      queue = [];
    }
    if (!catchingUp) queue.push(...records);
    else wroteDuringRead = true;
    expected = last.seq + 1;
    wake?.();
  }

  async function nextBatch(): Promise<AuditRecord[]> {
    if (!catchingUp) return queue.slice(0, batchSize);
    wroteDuringRead = false;
    const batch = await options.readFrom(cursor ?? 1, batchSize);
    // A record committed (and handed to `write`) while this read was in flight may be missing from
    // it, and its write was not queued: read once more rather than leave it waiting for the next
    // record, which may never come (the last records before a shutdown).
    if (batch.length < batchSize && !wroteDuringRead) {
      // Caught up with the store. A write that lands after this read starts past the store's tip as
      // read here, so it is seen as a gap and sends the sink back to catching up: nothing is missed.
      catchingUp = false;
      queue = [];
      expected = (batch.at(-1)?.seq ?? (cursor ?? 1) - 1) + 1;
    }
    return batch;
  }

  async function deadLetter(batch: readonly AuditRecord[], err: unknown): Promise<void> {
    const file = options.deadLetterFile as string;
    const fh = await open(file, 'a', 0o600);
    try {
      const reason = err instanceof Error ? err.message : String(err);
      await fh.write(batch.map((r) => `${JSON.stringify({ deadLetter: { reason }, record: r })}\n`).join(''));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    deadLettered += batch.length;
    options.onDeadLetter?.(batch, err);
  }

  function advance(batch: readonly AuditRecord[]): void {
    const lastSeq = (batch.at(-1) as AuditRecord).seq;
    cursor = lastSeq + 1;
    queue = queue.filter((r) => r.seq > lastSeq);
  }

  async function run(): Promise<void> {
    let attempt = 0;
    let refusals = 0;
    /** A batch that failed is retried as it was, not grown by what arrived meanwhile. */
    let retry: AuditRecord[] | undefined;
    while (!stop.signal.aborted) {
      let batch: AuditRecord[] = [];
      try {
        batch = retry ?? (cursor === undefined ? [] : await nextBatch());
        retry = undefined;
        if (batch.length === 0) {
          if (closing) return;
          // Checked in the same synchronous step that installs `wake`, so no write slips between.
          if (queue.length === 0 && !catchingUp) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        await options.deliver(batch, stop.signal);
        attempt = 0;
        refusals = 0;
        delivered += batch.length;
        advance(batch);
      } catch (err) {
        if (stop.signal.aborted) return;
        if (batch.length > 0) retry = batch;
        failures += 1;
        options.onFailure?.(err);
        if (err instanceof PermanentDeliveryError && batch.length > 1) {
          // One record the receiver refuses (an oversize message a caller provoked with a huge tool
          // name) must not take the records batched with it to the dead-letter file: halve the
          // batch until the refused record is alone, and only that one is dead-lettered.
          retry = batch.slice(0, Math.ceil(batch.length / 2));
          refusals = 0;
          continue;
        }
        if (err instanceof PermanentDeliveryError && options.deadLetterFile !== undefined) {
          refusals += 1;
          if (refusals >= permanentAttempts) {
            try {
              await deadLetter(batch, err);
              retry = undefined;
              refusals = 0;
              attempt = 0;
              advance(batch);
              continue;
            } catch (writeErr) {
              // The dead-letter file is not writable (disk full): keep the batch and keep retrying.
              options.onFailure?.(writeErr);
            }
          }
        }
        const delay = Math.min(maxBackoff, initialBackoff * 2 ** attempt);
        attempt += 1;
        await sleep(delay, stop.signal);
      }
    }
  }

  const running = run();

  return {
    write,
    stats: () => ({ delivered, failures, deadLettered, queued: queue.length, catchingUp }),
    async close() {
      closing = true;
      wake?.();
      const timer = setTimeout(() => stop.abort(), options.closeTimeoutMs ?? 5_000);
      await running;
      clearTimeout(timer);
      stop.abort();
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
