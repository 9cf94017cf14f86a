// The audit writer thread (issue 17): the SQLite commit runs off the event loop, and a batch is
// sealed after the head this process committed last instead of reading the chain first. These
// attacks try the two things that shortcut could lose: a head forged behind the running log must
// still stop its appends (not be extended because its seq matches), and a commit that fails in
// the thread must still fail the call (never be acknowledged). Beside them, the legitimate use:
// many concurrent appends through the thread, and the CLI writing in between, form one chain.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import {
  AuditError,
  createAuditLog,
  openSqliteAuditStore,
  sealRecord,
  signSeal,
  verifyAuditStore,
  type AuditEntry,
  type SqliteAuditStore,
} from '../../src/audit/index.js';
import { makeTestKeys, sampleEntry } from '../../src/audit/test-support.js';

const keys = makeTestKeys();
const entry = (i: number, over: Partial<AuditEntry> = {}): AuditEntry =>
  sampleEntry(i, {
    principal: 'alice',
    tool: 'memory_save',
    decision: 'allow',
    reasons: [],
    outcome: 'ok',
    ...over,
  });

async function auditFile(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-audit-thread-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'audit.db');
}

/** The store with a count of the batches its writer thread committed. */
async function threadStore(file: string): Promise<{ store: SqliteAuditStore; viaThread: () => number }> {
  const store = openSqliteAuditStore({ file });
  await store.writerReady();
  let committed = 0;
  const appendAfter = store.appendAfter!.bind(store);
  store.appendAfter = async (expected, batch) => {
    const result = await appendAfter(expected, batch);
    if (result === 'committed') committed++;
    return result;
  };
  return { store, viaThread: () => committed };
}

function tamper(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  db.prepare(sql).run(...params);
  db.close();
}

describe('the audit writer thread', () => {
  it('does not extend a head forged behind a running log, though its seq is the one expected', async (t) => {
    const file = await auditFile(t);
    const { store, viaThread } = await threadStore(file);
    const log = await createAuditLog({ store, keys });
    await log.append(entry(1));
    const last = await log.append(entry(2));
    assert.ok(viaThread() >= 1, 'the writer thread committed');
    // The attacker rewrites the last record (another outcome, its hash recomputed) and signs a
    // head for it at the same seq with a key of their own.
    const forged = sealRecord(entry(2, { outcome: 'denied' }), {
      seq: last.seq,
      prevHash: last.prevHash,
      time: last.time,
      salt: '11'.repeat(32),
    });
    tamper(
      file,
      'UPDATE audit_records SET outcome = ?, hash = ? WHERE seq = ?',
      'denied',
      forged.hash,
      last.seq,
    );
    const head = signSeal('head', { seq: last.seq, hash: forged.hash, time: last.time }, makeTestKeys());
    tamper(
      file,
      "UPDATE audit_seals SET hash = ?, signature = ?, key_id = ? WHERE kind = 'head'",
      head.hash,
      head.signature,
      keys.keyId,
    );
    await assert.rejects(log.append(entry(3)), /head signature is invalid/);
    assert.equal((await store.head())?.hash, forged.hash, 'nothing was written after the forged head');
    await store.close();
  });

  it('fails the call when the commit fails in the thread, and writes nothing', async (t) => {
    const file = await auditFile(t);
    const { store, viaThread } = await threadStore(file);
    const log = await createAuditLog({ store, keys });
    await log.append(entry(1));
    await log.append(entry(2));
    const before = viaThread();
    assert.ok(before >= 1);
    // Every insert now fails inside the transaction, as a full disk or an I/O error would.
    const db = new Database(file);
    db.exec("CREATE TRIGGER lost BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'disk lost'); END");
    const results = await Promise.allSettled([log.append(entry(3)), log.append(entry(4))]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof AuditError && r.reason.code === 'storage-failure', String(r.reason));
    }
    assert.equal((await store.head())?.seq, 2, 'the head did not move');
    db.exec('DROP TRIGGER lost');
    db.close();
    const next = await log.append(entry(5));
    assert.equal(next.seq, 3, 'the chain continues from the last committed record');
    assert.equal((await verifyAuditStore(store, keys.publicKey)).ok, true);
    await store.close();
  });

  it('beside them: a store closed while its thread is still starting waits for it, then stops it', async (t) => {
    const file = await auditFile(t);
    for (let i = 0; i < 5; i++) {
      const store = openSqliteAuditStore({ file });
      const log = await createAuditLog({ store, keys });
      // The first fast-path batch starts the thread and is committed on the main thread meanwhile.
      await log.append(entry(2 * i + 1));
      await log.append(entry(2 * i + 2));
      await log.close();
      await store.close();
    }
    const store = openSqliteAuditStore({ file });
    assert.deepEqual(await verifyAuditStore(store, keys.publicKey), {
      ok: true,
      count: 10,
      lastSeq: 10,
      erased: 0,
    });
    await store.close();
  });

  it('beside them: concurrent appends and the CLI in between form one verified chain', async (t) => {
    const file = await auditFile(t);
    const { store, viaThread } = await threadStore(file);
    const cliStore = openSqliteAuditStore({ file });
    const gateway = await createAuditLog({ store, keys, checkpointEvery: 25 });
    const cli = await createAuditLog({ store: cliStore, keys, checkpointEvery: 25 });
    const seqs: number[] = [];
    for (let round = 0; round < 6; round++) {
      // Two batches: the first follows the CLI's record (resealed), the second the thread's own.
      for (const part of [0, 1]) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, (_, i) => gateway.append(entry(round * 100 + part * 10 + i))),
        );
        seqs.push(...batch.map((r) => r.seq));
      }
      seqs.push((await cli.append(entry(9000 + round, { event: 'admin', principal: 'cli:root' }))).seq);
    }
    await cli.close();
    await gateway.close();
    assert.deepEqual(
      seqs,
      Array.from({ length: 126 }, (_, i) => i + 1),
    );
    assert.ok(viaThread() >= 6, `the writer thread committed ${viaThread()} batches`);
    assert.deepEqual(await verifyAuditStore(store, keys.publicKey), {
      ok: true,
      count: 126,
      lastSeq: 126,
      erased: 0,
    });
    await store.close();
    await cliStore.close();
  });
});
