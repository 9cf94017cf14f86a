import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import assert from 'node:assert/strict';
import { createAuditLog } from './audit-log.js';
import { AuditError } from './errors.js';
import { createMemoryAuditStore } from './memory-store.js';
import { openSqliteAuditStore } from './sqlite-store.js';
import type { AuditRecord } from './record.js';
import type { AuditBatch } from './store.js';
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
  store.appendBatch = (batch: AuditBatch) => {
    batches.push(batch.records.length);
    return appendBatch(batch);
  };
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
  let release: () => void = () => undefined;
  const appendBatch = store.appendBatch.bind(store);
  store.appendBatch = async (batch) => {
    await new Promise<void>((r) => (release = r));
    return appendBatch(batch);
  };
  const log = await createAuditLog({ store, keys });
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
  store.appendBatch = (batch) => (failNext ? Promise.reject(new Error('disk full')) : appendBatch(batch));
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

test('a log refuses to extend a store whose head was removed', async () => {
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys });
  await log.append(sampleEntry(1));
  store.head = () => Promise.resolve(undefined);
  await assert.rejects(createAuditLog({ store, keys }), (err: unknown) => err instanceof AuditError);
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
  assert.equal(await log.erase({ principal: 'alice' }), 4);
  assert.deepEqual(await verifyAuditStore(store, keys.publicKey), {
    ok: true,
    count: 8,
    lastSeq: 8,
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
