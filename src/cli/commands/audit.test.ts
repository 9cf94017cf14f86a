import { AuditQueryError } from '../../audit/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditRecord } from '../../audit/index.js';
import { formatTable, parseDecision, parseFilters, parseLimit, parseTimeBound } from './audit.js';

const now = new Date('2025-06-01T12:00:00.000Z');

test('relative times count back from now', () => {
  assert.equal(parseTimeBound('30m', now), '2025-06-01T11:30:00.000Z');
  assert.equal(parseTimeBound('1h', now), '2025-06-01T11:00:00.000Z');
  assert.equal(parseTimeBound('7d', now), '2025-05-25T12:00:00.000Z');
  assert.equal(parseTimeBound('45s', now), '2025-06-01T11:59:15.000Z');
});

test('ISO-8601 times are normalised to UTC', () => {
  assert.equal(parseTimeBound('2025-05-01', now), '2025-05-01T00:00:00.000Z');
  assert.equal(parseTimeBound('2025-05-01T10:00:00+02:00', now), '2025-05-01T08:00:00.000Z');
});

test('bad times, decisions and limits are usage errors', () => {
  for (const bad of ['1y', 'yesterday', '-5m', '2025-13-45', '']) {
    assert.throws(() => parseTimeBound(bad, now), AuditQueryError, bad);
  }
  assert.throws(() => parseDecision('permit'), AuditQueryError);
  assert.equal(parseDecision('deny'), 'deny');
  for (const bad of ['0', '-1', '1.5', 'ten', '1000000'])
    assert.throws(() => parseLimit(bad), AuditQueryError, bad);
  assert.equal(parseLimit('20'), 20);
});

test('filters combine and --since must precede --until', () => {
  assert.deepEqual(parseFilters({ principal: 'alice', since: '1h', decision: 'allow', tool: 'x' }, now), {
    principal: 'alice',
    since: '2025-06-01T11:00:00.000Z',
    decision: 'allow',
    tool: 'x',
  });
  assert.throws(() => parseFilters({ since: '1h', until: '2h' }, now), AuditQueryError);
});

test('the table shows one aligned row per record and hides erased principals', () => {
  const base = {
    time: '2025-06-01T12:00:00.000Z',
    prevHash: '',
    hash: '',
    correlationId: 'c',
    commitments: {},
  };
  const records = [
    {
      ...base,
      seq: 1,
      principal: 'alice',
      event: 'tool-call',
      tool: 'notes__search',
      decision: 'allow',
      reasons: [],
      outcome: 'ok',
      latencyMs: 1,
      bytesIn: 1,
      bytesOut: 1,
    },
    {
      ...base,
      seq: 2,
      erased: true,
      event: 'tool-call',
      decision: 'deny',
      reasons: ['scope-missing'],
      outcome: 'denied',
      latencyMs: 1,
      bytesIn: 1,
      bytesOut: 1,
    },
  ] as AuditRecord[];
  const lines = formatTable(records).trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0] as string, /^SEQ\s+TIME\s+PRINCIPAL/);
  assert.match(lines[1] as string, /alice\s+tool-call\s+notes__search\s+allow\s+ok\s+-$/);
  assert.match(lines[2] as string, /\(erased\)\s+tool-call\s+-\s+deny\s+denied\s+scope-missing$/);
});
