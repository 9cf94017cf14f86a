/**
 * Delivers committed records to an HTTP endpoint (a SIEM or webhook) as JSON lines, in seq order,
 * at least once (a retried POST may repeat records; receivers de-duplicate by `seq`).
 *
 * Back-pressure without loss: the in-memory queue is bounded. When a batch would overflow it (the
 * endpoint is slow or down), the sink drops its in-memory *copies* and switches to catching up from
 * the primary store through `readFrom`, from the first undelivered seq. The primary store is the
 * spill: nothing is dropped, memory stays bounded and the audit log's appends are never blocked.
 * Failures are retried with exponential back-off (capped) and counted.
 *
 * Limit: the delivery cursor lives in memory. Records not yet delivered when the process stops are
 * not re-sent by the next process (they remain in the primary store and `audit export`).
 */
import type { AuditRecord } from '../record.js';
import type { AuditSink } from './sink.js';

/** The subset of `fetch` the sink uses; pass the egress guard's fetch in production. */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number }>;

export interface WebhookSinkOptions {
  readonly url: string;
  readonly fetch: FetchLike;
  /** Reads committed records from the primary store (for catching up after an overflow). */
  readonly readFrom: (fromSeq: number, limit: number) => Promise<AuditRecord[]>;
  readonly headers?: Record<string, string>;
  readonly maxQueue?: number;
  readonly batchSize?: number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly requestTimeoutMs?: number;
  /** How long `close` waits for delivery of what is queued. */
  readonly closeTimeoutMs?: number;
  readonly onFailure?: (err: unknown) => void;
}

export interface WebhookSinkStats {
  readonly delivered: number;
  readonly failures: number;
  readonly queued: number;
  readonly catchingUp: boolean;
}

export function createWebhookSink(options: WebhookSinkOptions): AuditSink & { stats(): WebhookSinkStats } {
  const maxQueue = options.maxQueue ?? 10_000;
  const batchSize = options.batchSize ?? 100;
  const initialBackoff = options.initialBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  const requestTimeout = options.requestTimeoutMs ?? 10_000;

  let queue: AuditRecord[] = [];
  /** Next seq to deliver; undefined until the first batch is seen. */
  let cursor: number | undefined;
  /** Seq the next `write` should start at; anything else is a gap to fill from the store. */
  let expected: number | undefined;
  let catchingUp = false;
  let delivered = 0;
  let failures = 0;
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
    expected = last.seq + 1;
    wake?.();
  }

  async function nextBatch(): Promise<AuditRecord[]> {
    if (!catchingUp) return queue.slice(0, batchSize);
    const batch = await options.readFrom(cursor ?? 1, batchSize);
    if (batch.length < batchSize) {
      // Caught up with the store. A write that lands after this read starts past the store's tip as
      // read here, so it is seen as a gap and sends the sink back to catching up: nothing is missed.
      catchingUp = false;
      queue = [];
      expected = (batch.at(-1)?.seq ?? (cursor ?? 1) - 1) + 1;
    }
    return batch;
  }

  async function deliver(batch: AuditRecord[]): Promise<void> {
    const response = await options.fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', ...options.headers },
      body: batch.map((r) => `${JSON.stringify(r)}\n`).join(''),
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(requestTimeout)]),
    });
    if (!response.ok) throw new Error(`audit webhook answered ${response.status}`);
  }

  async function run(): Promise<void> {
    let attempt = 0;
    while (!stop.signal.aborted) {
      try {
        const batch = cursor === undefined ? [] : await nextBatch();
        if (batch.length === 0) {
          if (closing) return;
          // Checked in the same synchronous step that installs `wake`, so no write slips between.
          if (queue.length === 0 && !catchingUp) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        await deliver(batch);
        attempt = 0;
        delivered += batch.length;
        const lastSeq = (batch.at(-1) as AuditRecord).seq;
        cursor = lastSeq + 1;
        queue = queue.filter((r) => r.seq > lastSeq);
      } catch (err) {
        if (stop.signal.aborted) return;
        failures += 1;
        options.onFailure?.(err);
        const delay = Math.min(maxBackoff, initialBackoff * 2 ** attempt);
        attempt += 1;
        await sleep(delay, stop.signal);
      }
    }
  }

  const running = run();

  return {
    name: 'webhook',
    write,
    stats: () => ({ delivered, failures, queued: queue.length, catchingUp }),
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
