import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  createAuditLog,
  ensureAuditKeys,
  openSqliteAuditStore,
  type AuditEntry,
  type AuditRecord,
} from '../../src/audit/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';

const entry = (i: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  correlationId: `c${i}`,
  event: 'tool-call',
  tool: 'notes__search',
  decision: 'allow',
  reasons: [],
  outcome: 'ok',
  latencyMs: 1,
  bytesIn: 1,
  bytesOut: 1,
  ...over,
});

/** A data directory holding only an audit log (no configuration), as a restored backup would. */
async function logWith(entries: readonly AuditEntry[]): Promise<string> {
  const dataDir = tempDir('portcullis-audit-cli-');
  const keys = await ensureAuditKeys(path.join(dataDir, 'keys'));
  const store = openSqliteAuditStore({ file: path.join(dataDir, 'audit.db') });
  const log = await createAuditLog({ store, keys });
  for (const e of entries) await log.append(e);
  await log.close();
  await store.close();
  return dataDir;
}

describe('portcullis audit', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('verify, query, erase and export work end to end on a data directory', async () => {
    const dataDir = await logWith(['alice', 'bob', 'alice'].map((principal, i) => entry(i, { principal })));
    dirs.push(dataDir);

    const verified = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /intact: 3 records \(seq 1–3\)/);

    const queried = await runCli(['audit', 'query', '--principal', 'alice', '--json', '--data-dir', dataDir]);
    assert.equal(queried.code, 0, queried.stderr);
    assert.deepEqual(
      queried.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as AuditRecord).seq),
      [1, 3],
    );

    const erased = await runCli(['audit', 'erase', '--principal', 'alice', '--data-dir', dataDir]);
    assert.equal(erased.code, 0, erased.stderr);
    assert.match(erased.stdout, /of 2 records of principal "alice"/);
    const again = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /intact: 4 records.*2 erased/);

    const exported = await runCli(['audit', 'export', '--data-dir', dataDir]);
    const lines = exported.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.doesNotMatch(exported.stdout, /alice/);
    const event = JSON.parse(lines[3]!) as AuditRecord;
    assert.deepEqual(event.reasons, ['audit-erased']);
    assert.deepEqual(event.erasure?.ranges, [
      [1, 1],
      [3, 3],
    ]);

    const none = await runCli(['audit', 'erase', '--principal', 'alice', '--data-dir', dataDir]);
    assert.match(none.stdout, /no records of principal "alice"/);
    assert.equal(
      (await runCli(['audit', 'export', '--data-dir', dataDir])).stdout.trim().split('\n').length,
      4,
    );

    const bad = await runCli(['audit', 'query', '--since', 'last tuesday', '--data-dir', dataDir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid time/);
  });

  it('verify exits 1 and names the first broken record when the log was edited', async () => {
    const dataDir = await logWith([0, 1, 2].map((i) => entry(i, { decision: 'deny', outcome: 'denied' })));
    dirs.push(dataDir);
    const db = new Database(path.join(dataDir, 'audit.db'));
    db.prepare("UPDATE audit_records SET decision = 'allow' WHERE seq = 2").run();
    db.close();
    const result = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /BROKEN at seq 2: hash-mismatch/);
  });

  it('verify on a directory without a log is a usage error', async () => {
    const dataDir = tempDir('portcullis-audit-cli-');
    dirs.push(dataDir);
    const result = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no audit log/);
  });

  it('erase refuses to extend a log whose head was forged, and changes nothing', async () => {
    const dataDir = await logWith([entry(1, { principal: 'alice' })]);
    dirs.push(dataDir);
    const db = new Database(path.join(dataDir, 'audit.db'));
    db.prepare("UPDATE audit_seals SET signature = 'AAAA' WHERE kind = 'head'").run();
    db.close();
    const result = await runCli(['audit', 'erase', '--principal', 'alice', '--data-dir', dataDir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /head signature is invalid/);
    const exported = await runCli(['audit', 'export', '--data-dir', dataDir]);
    assert.match(exported.stdout, /"principal":"alice"/);
  });
});
