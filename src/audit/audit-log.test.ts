import { test, type TestContext } from 'node:test';
import { Writable } from 'node:stream';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createAuditLog } from './audit-log.js';
import { sealRecord } from './chain.js';
import { AuditError } from './errors.js';
import { createMemoryAuditStore } from './memory-store.js';
import { openSqliteAuditStore } from './sqlite-store.js';
import type { AuditRecord } from './record.js';
import type { BatchBuilder } from './store.js';
import { frozenClock, makeTestKeys, sampleEntry } from './test-support.js';
import { verifyAuditStore } from './verify-store.js';

const keys = makeTestKeys();
const DAY = 24 * 60 * 60 * 1000;

test('appended records get consecutive seqs, link to each other and verify', async () => {
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys });
  const first = await log.append(sampleEntry(1));
  const second = await log.append(sampleEntry(2));
  assert.equal(first.seq, 1);
  assert.equal(second.seq, 2);
  assert.equal(second.prevHash, first.hash);
  assert.deepEqual(await verifyAuditStore(store, keys.publicKey), {
    ok: true,
    count: 2,
    lastSeq: 2,
    erased: 0,
  });
});

test('concurrent appends are committed in groups, in strict order, each exactly once', async () => {
  const store = createMemoryAuditStore();
  const batches: number[] = [];
  const appendBatch = store.appendBatch.bind(store);
  store.appendBatch = (build: BatchBuilder) =>
    appendBatch((state) => {
      const batch = build(state);
      if (batch) batches.push(batch.records.length);
      return batch;
    });
  const log = await createAuditLog({ store, keys });
  const results = await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(sampleEntry(i))));
  assert.deepEqual(
    results.map((r) => r.seq),
    Array.from({ length: 300 }, (_, i) => i + 1),
  );
  assert.deepEqual(
    results.map((r) => r.correlationId),
    Array.from({ length: 300 }, (_, i) => `req-${i}`),
  );
  assert.ok(batches.length < 300, 'appends made together share a commit');
  assert.equal(store.records.length, 300);
  const verdict = await verifyAuditStore(store, keys.publicKey);
  assert.equal(verdict.ok, true);
});

test('an append does not resolve before its batch is committed', async () => {
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys });
  let release: () => void = () => undefined;
  const appendBatch = store.appendBatch.bind(store);
  store.appendBatch = async (build) => {
    await new Promise<void>((r) => (release = r));
    return appendBatch(build);
  };
  let acknowledged = false;
  const pending = log.append(sampleEntry(1)).then(() => (acknowledged = true));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(acknowledged, false);
  assert.equal(log.queueDepth(), 1);
  release();
  await pending;
  assert.equal(acknowledged, true);
  assert.equal(log.queueDepth(), 0);
});

test('a failed commit rejects its appends and the chain continues from the last committed record', async () => {
  const store = createMemoryAuditStore();
  const appendBatch = store.appendBatch.bind(store);
  let failNext = false;
  store.appendBatch = (build) => (failNext ? Promise.reject(new Error('disk full')) : appendBatch(build));
  const log = await createAuditLog({ store, keys });
  await log.append(sampleEntry(1));
  failNext = true;
  await assert.rejects(
    log.append(sampleEntry(2)),
    (err: unknown) => err instanceof AuditError && err.code === 'storage-failure',
  );
  failNext = false;
  const next = await log.append(sampleEntry(3));
  assert.equal(next.seq, 2);
  assert.equal((await verifyAuditStore(store, keys.publicKey)).ok, true);
});

test('an entry that cannot be encoded fails alone and takes no seq', async () => {
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys });
  const bad = log.append(sampleEntry(1, { latencyMs: Number.NaN }));
  const good = log.append(sampleEntry(2));
  await assert.rejects(bad, (err: unknown) => err instanceof AuditError && err.code === 'invalid-argument');
  assert.equal((await good).seq, 1);
});

test('checkpoints are signed every N records and at close', async () => {
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys, checkpointEvery: 4 });
  await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(sampleEntry(i))));
  assert.deepEqual(
    (await store.checkpoints()).map((c) => c.seq),
    [4, 8],
  );
  await log.close();
  assert.deepEqual(
    (await store.checkpoints()).map((c) => c.seq),
    [4, 8, 10],
  );
  await assert.rejects(log.append(sampleEntry(11)), AuditError);
});

test('a reopened log continues the same chain', async () => {
  const store = createMemoryAuditStore();
  const first = await createAuditLog({ store, keys });
  await first.append(sampleEntry(1));
  await first.close();
  const second = await createAuditLog({ store, keys });
  const record = await second.append(sampleEntry(2));
  assert.equal(record.seq, 2);
  assert.equal((await verifyAuditStore(store, keys.publicKey)).ok, true);
});

/** A SQLite audit file in a fresh directory, removed after the test. */
async function sqliteFile(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-audit-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'audit.db');
}

function tamper(file: string, sql: string): void {
  const db = new Database(file);
  db.exec(sql);
  db.close();
}

test('a log refuses to extend a store whose head was removed', async (t) => {
  const file = await sqliteFile(t);
  const store = openSqliteAuditStore({ file });
  const log = await createAuditLog({ store, keys });
  await log.append(sampleEntry(1));
  tamper(file, "DELETE FROM audit_seals WHERE kind = 'head'");
  await assert.rejects(createAuditLog({ store, keys }), (err: unknown) => err instanceof AuditError);
  await store.close();
});

test('a running log refuses to extend a chain whose head was forged or outrun behind its back', async (t) => {
  const file = await sqliteFile(t);
  const store = openSqliteAuditStore({ file });
  const log = await createAuditLog({ store, keys });
  await log.append(sampleEntry(1));
  tamper(file, "UPDATE audit_seals SET signature = 'AAAA' WHERE kind = 'head'");
  await assert.rejects(log.append(sampleEntry(2)), /head signature is invalid/);
  await store.close();

  const other = await sqliteFile(t);
  const second = openSqliteAuditStore({ file: other });
  const log2 = await createAuditLog({ store: second, keys });
  const first = await log2.append(sampleEntry(1));
  const stray = sealRecord(sampleEntry(99), {
    seq: 2,
    prevHash: first.hash,
    time: first.time,
    salt: '00'.repeat(32),
  });
  tamper(
    other,
    `INSERT INTO audit_records (seq, time, prev_hash, hash, correlation_id, event, decision, reasons_json, outcome,
     latency_ms, bytes_in, bytes_out, commitments_json) VALUES (2, '${stray.time}', '${stray.prevHash}', '${stray.hash}',
     'x', 'tool-call', 'allow', '[]', 'ok', 0, 0, 0, '{}')`,
  );
  await assert.rejects(log2.append(sampleEntry(3)), /records beyond its signed head/);
  await second.close();
});

test('two processes appending to one file interleave into one chain, and neither fails', async (t) => {
  const file = await sqliteFile(t);
  // Two connections are what two processes (the gateway and the CLI) are to SQLite.
  const gatewayStore = openSqliteAuditStore({ file });
  const cliStore = openSqliteAuditStore({ file });
  const gateway = await createAuditLog({ store: gatewayStore, keys, checkpointEvery: 10 });
  const cli = await createAuditLog({ store: cliStore, keys, checkpointEvery: 10 });
  const results: AuditRecord[] = [];
  for (let round = 0; round < 5; round++) {
    results.push(...(await Promise.all(Array.from({ length: 7 }, (_, i) => gateway.append(sampleEntry(i))))));
    results.push(await cli.append(sampleEntry(100 + round, { principal: 'cli:root', event: 'admin' })));
  }
  await cli.close();
  results.push(await gateway.append(sampleEntry(200)));
  await gateway.close();
  assert.deepEqual(
    results.map((r) => r.seq),
    Array.from({ length: 41 }, (_, i) => i + 1),
  );
  assert.deepEqual(await verifyAuditStore(gatewayStore, keys.publicKey), {
    ok: true,
    count: 41,
    lastSeq: 41,
    erased: 0,
  });
  await gatewayStore.close();
  await cliStore.close();
});

test('a sink also receives, in order, the records another process appended', async (t) => {
  const file = await sqliteFile(t);
  const seen: number[] = [];
  const gatewayStore = openSqliteAuditStore({ file });
  const cliStore = openSqliteAuditStore({ file });
  const gateway = await createAuditLog({
    store: gatewayStore,
    keys,
    sinks: [
      {
        name: 'siem',
        write: (records: readonly AuditRecord[]) => void seen.push(...records.map((r) => r.seq)),
        close: () => Promise.resolve(),
      },
    ],
  });
  await gateway.append(sampleEntry(1));
  const cli = await createAuditLog({ store: cliStore, keys });
  await cli.append(sampleEntry(2));
  await cli.erase({ principal: 'alice' }, { correlationId: 'erase', principal: 'cli:root' });
  await gateway.append(sampleEntry(4));
  await cli.close();
  await gateway.close(); // sinks are fed after the acknowledgement; close waits for them
  assert.deepEqual(seen, [1, 2, 3, 4]);
  await gatewayStore.close();
  await cliStore.close();
});

test('an erasure appends one signed audit-erased event naming what it erased, in the same transaction', async () => {
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys });
  for (let i = 1; i <= 6; i++) await log.append(sampleEntry(i));
  assert.equal(
    await log.erase({ principal: 'alice' }, { correlationId: 'erase-1', principal: 'cli:root' }),
    3,
  );
  const event = store.records.at(-1)!;
  assert.equal(event.seq, 7);
  assert.equal(event.event, 'admin');
  assert.deepEqual(event.reasons, ['audit-erased']);
  assert.equal(event.principal, 'cli:root');
  assert.equal(event.correlationId, 'erase-1');
  assert.deepEqual(event.erasure?.ranges, [
    [2, 2],
    [4, 4],
    [6, 6],
  ]);
  assert.equal(event.erasure?.keyId, keys.keyId);
  assert.equal(
    await log.erase({ principal: 'alice' }, { correlationId: 'erase-2', principal: 'cli:root' }),
    0,
  );
  assert.equal(store.records.length, 7, 'nothing erased, nothing recorded');
  assert.equal((await verifyAuditStore(store, keys.publicKey)).ok, true);
});

test('retention prunes only up to a signed checkpoint and the chain still verifies', async () => {
  const clock = frozenClock();
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys, now: clock.now, checkpointEvery: 5 });
  for (let i = 1; i <= 12; i++) await log.append(sampleEntry(i));
  clock.advance(91 * DAY);
  for (let i = 13; i <= 15; i++) await log.append(sampleEntry(i));
  const result = await log.prune(90 * DAY);
  assert.deepEqual(result, { deleted: 10, anchorSeq: 10 });
  assert.equal(store.records[0]?.seq, 11);
  assert.deepEqual(await verifyAuditStore(store, keys.publicKey), {
    ok: true,
    count: 5,
    lastSeq: 15,
    erased: 0,
  });
  const next = await log.append(sampleEntry(16));
  assert.equal(next.seq, 16);
  assert.equal((await verifyAuditStore(store, keys.publicKey)).ok, true);
});

test('records younger than the retention period are never pruned', async () => {
  const clock = frozenClock();
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys, now: clock.now, checkpointEvery: 2 });
  for (let i = 1; i <= 6; i++) await log.append(sampleEntry(i));
  clock.advance(89 * DAY);
  assert.deepEqual(await log.prune(90 * DAY), { deleted: 0, anchorSeq: undefined });
  assert.equal(store.records.length, 6);
});

test('erasing a principal keeps the chain verifiable and removes their values', async () => {
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys, checkpointEvery: 3 });
  for (let i = 1; i <= 8; i++) await log.append(sampleEntry(i));
  assert.equal(
    await log.erase({ principal: 'alice' }, { correlationId: 'erase-1', principal: 'cli:root' }),
    4,
  );
  assert.deepEqual(await verifyAuditStore(store, keys.publicKey), {
    ok: true,
    count: 9,
    lastSeq: 9,
    erased: 4,
  });
  const text = JSON.stringify(store.records);
  assert.doesNotMatch(text, /alice/);
  assert.match(text, /bob/);
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  assert.equal(await log.exportJsonl({ principal: 'bob' }, out), 4);
  assert.equal(chunks.join('').trim().split('\n').length, 4);
});

test('sinks receive each committed batch in order, after the commit', async () => {
  const store = createMemoryAuditStore();
  const seen: number[] = [];
  const log = await createAuditLog({
    store,
    keys,
    sinks: [
      {
        name: 'test',
        write(records: readonly AuditRecord[]) {
          for (const r of records) {
            assert.ok(
              store.records.some((s) => s.seq === r.seq),
              'committed before the sink sees it',
            );
            seen.push(r.seq);
          }
        },
        close: () => Promise.resolve(),
      },
    ],
  });
  await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(sampleEntry(i))));
  assert.deepEqual(
    seen,
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
});

test('a throwing sink does not fail the append', async () => {
  const errors: string[] = [];
  const log = await createAuditLog({
    store: createMemoryAuditStore(),
    keys,
    sinks: [
      {
        name: 'broken',
        write() {
          throw new Error('boom');
        },
        close: () => Promise.resolve(),
      },
    ],
    onSinkError: (name) => errors.push(name),
  });
  assert.equal((await log.append(sampleEntry(1))).seq, 1);
  assert.deepEqual(errors, ['broken']);
});

test('two processes appending to one file (the gateway and the CLI) continue one chain, never fork it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-writers-'));
  try {
    const file = path.join(dir, 'audit.db');
    const gatewayStore = openSqliteAuditStore({ file });
    const gateway = await createAuditLog({ store: gatewayStore, keys });
    await gateway.append(sampleEntry(1));
    // The CLI opens its own connection, appends one record and leaves.
    const cliStore = openSqliteAuditStore({ file });
    const cli = await createAuditLog({ store: cliStore, keys });
    assert.equal((await cli.append(sampleEntry(2))).seq, 2);
    await cliStore.close();
    // The gateway's next batch is refused at its stale position, sealed again after the CLI's.
    const next = await gateway.append(sampleEntry(3));
    assert.equal(next.seq, 3);
    await gateway.close();
    assert.deepEqual(await verifyAuditStore(gatewayStore, keys.publicKey), {
      ok: true,
      count: 3,
      lastSeq: 3,
      erased: 0,
    });
    await gatewayStore.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a log closing after another writer appended signs its head after that writer’s records', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-writers-'));
  try {
    const file = path.join(dir, 'audit.db');
    const gatewayStore = openSqliteAuditStore({ file });
    const gateway = await createAuditLog({ store: gatewayStore, keys });
    await gateway.append(sampleEntry(1));
    const cliStore = openSqliteAuditStore({ file });
    await (await createAuditLog({ store: cliStore, keys })).append(sampleEntry(2));
    await cliStore.close();
    await gateway.close();
    assert.equal((await gatewayStore.head())?.seq, 2);
    assert.equal((await verifyAuditStore(gatewayStore, keys.publicKey)).ok, true);
    await gatewayStore.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
