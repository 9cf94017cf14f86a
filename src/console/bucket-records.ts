import type { AuditRecord } from '../audit/index.js';

/** One slot of a timeline: how many calls, denials and rate-limited calls started in it. */
export interface Bucket {
  readonly start: number;
  readonly calls: number;
  readonly denials: number;
  readonly rateLimited: number;
}

/** The events a timeline counts as calls (what a client asked the gateway to do). */
const CALL_EVENTS = new Set(['tool-call', 'resource-read', 'prompt-get', 'completion']);

/**
 * Records counted into `count` equal slots from `since` to `until` (ms). Pure. A record is a call
 * when its event is one; a denial when its decision is `deny`; rate-limited by its outcome.
 */
export function bucketRecords(
  records: readonly AuditRecord[],
  since: number,
  until: number,
  count: number,
): Bucket[] {
  const width = Math.max(1, (until - since) / count);
  const slots = Array.from({ length: count }, (_, i) => ({
    start: Math.round(since + i * width),
    calls: 0,
    denials: 0,
    rateLimited: 0,
  }));
  for (const r of records) {
    if (!CALL_EVENTS.has(r.event)) continue;
    const t = Date.parse(r.time);
    if (!(t >= since && t < until)) continue;
    const slot = slots[Math.min(count - 1, Math.floor((t - since) / width))]!;
    slot.calls += 1;
    if (r.decision === 'deny') slot.denials += 1;
    if (r.outcome === 'rate-limited') slot.rateLimited += 1;
  }
  return slots;
}
