import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditRecord } from '../audit/index.js';
import { bucketRecords } from './bucket-records.js';
import { timelineChart } from './charts.js';

const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const rec = (offsetMs: number, fields: Partial<AuditRecord> = {}): AuditRecord =>
  ({
    seq: 1,
    time: new Date(T0 + offsetMs).toISOString(),
    event: 'tool-call',
    decision: 'allow',
    outcome: 'ok',
    reasons: [],
    ...fields,
  }) as AuditRecord;

describe('timeline buckets (frozen clock)', () => {
  it('counts calls, denials and rate-limited calls into equal slots; other events and times are left out', () => {
    const buckets = bucketRecords(
      [
        rec(0),
        rec(59_999, { decision: 'deny', outcome: 'denied' }),
        rec(60_000, { decision: 'deny', outcome: 'rate-limited' }),
        rec(179_999, { event: 'resource-read' }),
        rec(30_000, { event: 'authentication' }),
        rec(30_000, { event: 'tool-intent' }),
        rec(-1),
        rec(180_000),
      ],
      T0,
      T0 + 180_000,
      3,
    );
    assert.deepEqual(
      buckets.map((b) => [b.start - T0, b.calls, b.denials, b.rateLimited]),
      [
        [0, 2, 1, 0],
        [60_000, 1, 1, 1],
        [120_000, 1, 0, 0],
      ],
    );
  });

  it('the chart names its totals, titles each bar, and escapes what it shows', () => {
    const svg = timelineChart(bucketRecords([rec(0), rec(1, { decision: 'deny' })], T0, T0 + 60_000, 2), {
      label: '<script>x</script>',
    }).value;
    assert.match(svg, /aria-label="&lt;script&gt;x&lt;\/script&gt;: 2 calls, 1 denied"/);
    assert.match(svg, /<title>\s*10:00 UTC — 2 calls, 1 denied,\s+0 rate-limited\s*<\/title>/);
    assert.equal((svg.match(/class="denials"/g) ?? []).length, 1);
    assert.doesNotMatch(svg, /<script>/);
  });
});
