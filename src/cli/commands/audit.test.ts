import { AuditQueryError } from '../../audit/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import {
  createAuditLog,
  ensureAuditKeys,
  openSqliteAuditStore,
  type AuditRecord,
} from '../../audit/index.js';
import { formatTable, parseDecision, parseFilters, parseLimit, parseTimeBound, register } from './audit.js';

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

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

async function runCli(args: string[]) {
  const out = capture();
  const err = capture();
  let exitCode = 0;
  const program = new Command().exitOverride();
  register(program, { out: out.stream, err: err.stream, now: () => now, setExitCode: (c) => (exitCode = c) });
  await program.parseAsync(args, { from: 'user' });
  return { out: out.text(), err: err.text(), exitCode };
}

test('verify, query, erase and export work end to end on a data directory', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pc-cli-audit-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const keys = await ensureAuditKeys(path.join(dataDir, 'keys'));
  const store = openSqliteAuditStore({ file: path.join(dataDir, 'audit.db') });
  const log = await createAuditLog({ store, keys });
  for (const principal of ['alice', 'bob', 'alice']) {
    await log.append({
      correlationId: 'c',
      principal,
      event: 'tool-call',
      tool: 'notes__search',
      decision: 'allow',
      reasons: [],
      outcome: 'ok',
      latencyMs: 1,
      bytesIn: 1,
      bytesOut: 1,
    });
  }
  await log.close();
  await store.close();

  const verified = await runCli(['audit', 'verify', '--data-dir', dataDir]);
  assert.equal(verified.exitCode, 0, verified.err);
  assert.match(verified.out, /intact: 3 records \(seq 1–3\)/);

  const queried = await runCli(['audit', 'query', '--principal', 'alice', '--json', '--data-dir', dataDir]);
  assert.deepEqual(
    queried.out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as AuditRecord).seq),
    [1, 3],
  );

  const erased = await runCli(['audit', 'erase', '--principal', 'alice', '--data-dir', dataDir]);
  assert.match(erased.out, /of 2 records of principal "alice"/);
  assert.match((await runCli(['audit', 'verify', '--data-dir', dataDir])).out, /intact: 3 records.*2 erased/);

  const exported = await runCli(['audit', 'export', '--data-dir', dataDir]);
  assert.equal(exported.out.trim().split('\n').length, 3);
  assert.doesNotMatch(exported.out, /alice/);

  const bad = await runCli(['audit', 'query', '--since', 'last tuesday', '--data-dir', dataDir]);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.err, /invalid time/);
});

test('verify exits 1 and names the first broken record when the log was edited', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pc-cli-audit-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const keys = await ensureAuditKeys(path.join(dataDir, 'keys'));
  const file = path.join(dataDir, 'audit.db');
  const store = openSqliteAuditStore({ file });
  const log = await createAuditLog({ store, keys });
  for (let i = 0; i < 3; i++) {
    await log.append({
      correlationId: `c${i}`,
      event: 'tool-call',
      decision: 'deny',
      reasons: ['scope-missing'],
      outcome: 'denied',
      latencyMs: 1,
      bytesIn: 1,
      bytesOut: 1,
    });
  }
  await log.close();
  await store.close();
  const db = new Database(file);
  db.prepare("UPDATE audit_records SET decision = 'allow' WHERE seq = 2").run();
  db.close();
  const result = await runCli(['audit', 'verify', '--data-dir', dataDir]);
  assert.equal(result.exitCode, 1);
  assert.match(result.out, /BROKEN at seq 2: hash-mismatch/);
});

test('verify on a directory without a log is a usage error', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pc-cli-audit-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const result = await runCli(['audit', 'verify', '--data-dir', dataDir]);
  assert.equal(result.exitCode, 2);
  assert.match(result.err, /no audit log/);
});
