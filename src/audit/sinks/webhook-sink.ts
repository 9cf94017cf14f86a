/**
 * Delivers committed records to an HTTP endpoint (a SIEM or webhook) as JSON lines, in seq order,
 * at least once (a retried POST may repeat records; receivers de-duplicate by `seq`). Ordering,
 * back-pressure, retries and the dead-letter file are `deliverInOrder`'s (deliver-in-order.ts).
 */
import type { AuditRecord } from '../record.js';
import {
  deliverInOrder,
  PermanentDeliveryError,
  type OrderedDeliveryOptions,
  type OrderedDeliveryStats,
} from './deliver-in-order.js';
import type { AuditSink } from './sink.js';

/** The subset of `fetch` the sink uses; pass the egress guard's fetch in production. */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number }>;

export interface WebhookSinkOptions extends Omit<OrderedDeliveryOptions, 'deliver'> {
  readonly url: string;
  readonly fetch: FetchLike;
  readonly headers?: Record<string, string>;
  readonly requestTimeoutMs?: number;
  /** One record as one line (no newline). Default: the record's own JSON. */
  readonly encode?: (record: AuditRecord) => string;
  /** The sink's name in metrics and logs. Default `webhook`. */
  readonly name?: string;
}

export type WebhookSinkStats = OrderedDeliveryStats;

/** 4xx answers that a later retry may turn into a success (RFC 9110 §15.5.9, RFC 8470, RFC 6585). */
const RETRYABLE_CLIENT_ERRORS = new Set([408, 425, 429]);

export function createWebhookSink(options: WebhookSinkOptions): AuditSink & { stats(): WebhookSinkStats } {
  const requestTimeout = options.requestTimeoutMs ?? 10_000;
  const encode = options.encode ?? ((r: AuditRecord) => JSON.stringify(r));
  const delivery = deliverInOrder({
    ...options,
    async deliver(batch, stop) {
      const response = await options.fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', ...options.headers },
        body: batch.map((r) => `${encode(r)}\n`).join(''),
        signal: AbortSignal.any([stop, AbortSignal.timeout(requestTimeout)]),
      });
      if (response.ok) return;
      const message = `audit webhook answered ${response.status}`;
      if (response.status >= 400 && response.status < 500 && !RETRYABLE_CLIENT_ERRORS.has(response.status))
        throw new PermanentDeliveryError(message);
      throw new Error(message);
    },
  });
  return {
    name: options.name ?? 'webhook',
    write: delivery.write,
    stats: delivery.stats,
    close: delivery.close,
  };
}
