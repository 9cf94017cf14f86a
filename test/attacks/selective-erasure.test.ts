import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { AuditRecord } from '../../src/audit/index.js';
import { runCli } from '../helpers/cli.js';
import { postMcp, readRpc, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';

/** A record as `audit export` prints it, with the erasure event's signed list of erased seqs. */
type Exported = AuditRecord & {
  readonly erasure?: { readonly ranges: readonly [number, number][]; readonly signature: string };
};

/**
 * Selective erasure: someone with write access to audit.db (but not to the signing key) hides
 * what chosen people did by "erasing" their records by hand — the personal values and the salt
 * set to NULL and `erased = 1`, exactly what a genuine erasure leaves. The hashes cover only the
 * commitments, so the chain alone cannot tell; only a signed erasure event in the chain can.
 */
describe('selective erasure of audit records by SQL', () => {
  let t: TestGateway;
  let dataDir: string;
  let alice: string;
  let bob: string;

  const save = (key: string, content: string) =>
    postMcp(
      t.url,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'memory_save', arguments: { content } },
      },
      { key },
    );
  const saveOk = async (key: string, content: string) => {
    const res = await save(key, content);
    assert.equal(res.status, 200);
    const rpc = await readRpc(res);
    assert.equal(rpc.error, undefined, JSON.stringify(rpc.error));
    assert.notEqual(rpc.result?.isError, true);
  };
  const copyOfLog = async () => {
    // Each attack works on its own copy of the data directory, so one does not mask another. The
    // live database is copied through SQLite: reading its files directly from this process (which
    // hosts the gateway) would drop the gateway's POSIX locks on them.
    const copy = tempDir('portcullis-erasure-copy-');
    fs.cpSync(path.join(dataDir, 'keys'), path.join(copy, 'keys'), { recursive: true });
    fs.copyFileSync(path.join(dataDir, 'portcullis.yaml'), path.join(copy, 'portcullis.yaml'));
    const live = new Database(path.join(dataDir, 'audit.db'), { readonly: true });
    await live.backup(path.join(copy, 'audit.db'));
    live.close();
    return copy;
  };
  const records = async (dir: string): Promise<Exported[]> => {
    const r = await runCli(['audit', 'export', '--data-dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Exported);
  };

  before(async () => {
    dataDir = tempDir('portcullis-erasure-');
    t = await startTestGateway({ dataDir });
    alice = (await t.key({ owner: 'alice' })).key;
    bob = (await t.key({ owner: 'bob' })).key;
    for (let i = 0; i < 3; i++) {
      await saveOk(alice, `alice note ${i}`);
      await saveOk(bob, `bob note ${i}`);
    }
  });
  after(async () => {
    await t.close();
  });

  it('records nulled and marked erased by hand are reported BROKEN by `portcullis audit verify`, naming the first one', async () => {
    const dir = await copyOfLog();
    const bobsRecords = (await records(dir)).filter((r) => r.principal === 'bob');
    // Each save leaves its intent and its outcome.
    assert.equal(bobsRecords.filter((r) => r.event === 'tool-call').length, 3);
    const bobs = bobsRecords.map((r) => r.seq);
    const db = new Database(path.join(dir, 'audit.db'));
    db.prepare(
      `UPDATE audit_records SET session_id = NULL, principal = NULL, tenant = NULL, client_id = NULL,
       credential_id = NULL, args_json = NULL, salt = NULL, erased = 1 WHERE principal = 'bob'`,
    ).run();
    db.close();

    const verified = await runCli(['audit', 'verify', '--data-dir', dir]);
    assert.equal(verified.code, 1, verified.stdout + verified.stderr);
    assert.match(verified.stdout, new RegExp(`BROKEN at seq ${bobs[0]}: erasure-unrecorded`));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a genuine `portcullis audit erase` verifies, is itself a signed audit-erased event, and the running gateway keeps appending after it', async () => {
    const before = await records(dataDir);
    const alices = before.filter((r) => r.principal === 'alice').map((r) => r.seq);

    const erased = await runCli(['audit', 'erase', '--principal', 'alice', '--data-dir', dataDir]);
    assert.equal(erased.code, 0, erased.stderr);
    assert.match(erased.stdout, new RegExp(`of ${alices.length} records`));

    // The gateway is still running and still owns the head: its next records follow the erasure.
    await saveOk(bob, 'after the erasure');

    const after = await records(dataDir);
    const event = after.find((r) => r.reasons.includes('audit-erased'));
    assert.ok(event, 'the erasure is recorded in the chain');
    assert.equal(event.event, 'admin');
    assert.match(event.principal ?? '', /^cli:/);
    assert.deepEqual(event.erasure?.ranges, rangesOf(alices));
    assert.ok(event.erasure?.signature);
    assert.ok(after.some((r) => r.seq > event.seq && r.principal === 'bob'));
    for (const seq of alices) {
      const r = after.find((x) => x.seq === seq);
      assert.equal(r?.erased, true);
      assert.equal(r?.principal, undefined);
    }

    const verified = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, new RegExp(`intact: ${after.length} records.*${alices.length} erased`));
  });

  it('stretching a genuine erasure event over more records, or adding records to it by hand, is detected', async () => {
    const dir = await copyOfLog();
    const db = new Database(path.join(dir, 'audit.db'));
    const row = db
      .prepare('SELECT seq, erasure_json FROM audit_records WHERE erasure_json IS NOT NULL')
      .get() as { seq: number; erasure_json: string };
    const bobSeq = (
      db.prepare("SELECT seq FROM audit_records WHERE principal = 'bob' ORDER BY seq").get() as {
        seq: number;
      }
    ).seq;
    const stretched = JSON.parse(row.erasure_json) as { ranges: [number, number][] };
    stretched.ranges = [...stretched.ranges, [bobSeq, bobSeq] as [number, number]].sort(
      (a, b) => a[0] - b[0],
    );
    db.prepare('UPDATE audit_records SET erasure_json = ? WHERE seq = ?').run(
      JSON.stringify(stretched),
      row.seq,
    );
    db.prepare(
      `UPDATE audit_records SET session_id = NULL, principal = NULL, tenant = NULL, client_id = NULL,
       credential_id = NULL, args_json = NULL, salt = NULL, erased = 1 WHERE seq = ?`,
    ).run(bobSeq);
    db.close();

    const verified = await runCli(['audit', 'verify', '--data-dir', dir]);
    assert.equal(verified.code, 1, verified.stdout);
    assert.match(verified.stdout, new RegExp(`BROKEN at seq ${row.seq}: `));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

/** Ascending seqs as inclusive [first, last] ranges. */
function rangesOf(seqs: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const s of seqs) {
    const last = out.at(-1);
    if (last && last[1] === s - 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}
