import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createAuditLog } from '../audit-log.js';
import { createMemoryAuditStore } from '../memory-store.js';
import { makeTestKeys, sampleEntry } from '../test-support.js';
import { createJsonlFileSink } from './jsonl-file-sink.js';
import { createStdoutSink } from './stdout-sink.js';
import { createWebhookSink, type FetchLike } from './webhook-sink.js';
import { deliverInOrder, PermanentDeliveryError } from './deliver-in-order.js';

const keys = makeTestKeys();

test('the JSON-lines file sink appends every committed record in order', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-sink-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'audit.jsonl');
  const sink = createJsonlFileSink({ file });
  const log = await createAuditLog({ store: createMemoryAuditStore(), keys, sinks: [sink] });
  await Promise.all(Array.from({ length: 30 }, (_, i) => log.append(sampleEntry(i))));
  await log.close();
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { seq: number }).seq),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal(sink.failures(), 0);
});

test('the stdout sink logs one line per record', async () => {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const sink = createStdoutSink({ logger: pino({ base: null }, out) });
  const log = await createAuditLog({ store: createMemoryAuditStore(), keys, sinks: [sink] });
  await log.append(sampleEntry(1));
  await log.append(sampleEntry(2));
  await log.close();
  const parsed = lines
    .join('')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; audit: { seq: number } });
  assert.deepEqual(
    parsed.map((p) => [p.msg, p.audit.seq]),
    [
      ['audit', 1],
      ['audit', 2],
    ],
  );
});

/** A local receiver that fails the first `failFirst` requests, then accepts. */
async function startReceiver(failFirst: number) {
  const received: number[] = [];
  let requests = 0;
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests += 1;
      if (requests <= failFirst) {
        res.writeHead(503).end();
        return;
      }
      for (const line of body.trim().split('\n')) received.push((JSON.parse(line) as { seq: number }).seq);
      res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const httpFetch: FetchLike = async (url, init) => {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return { ok: res.ok, status: res.status };
};

test('the webhook sink retries failures with back-off and delivers every record once accepted', async (t) => {
  const receiver = await startReceiver(3);
  t.after(() => receiver.close());
  const store = createMemoryAuditStore();
  const failures: unknown[] = [];
  const sink = createWebhookSink({
    url: receiver.url,
    fetch: httpFetch,
    readFrom: (seq, limit) => store.readFrom(seq, limit),
    initialBackoffMs: 5,
    maxBackoffMs: 20,
    onFailure: (err) => failures.push(err),
  });
  const log = await createAuditLog({ store, keys, sinks: [sink] });
  await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(sampleEntry(i))));
  await log.close();
  assert.deepEqual(
    [...new Set(receiver.received)].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  assert.equal(sink.stats().failures, 3);
  assert.equal(failures.length, 3);
});

test('when its queue is full the webhook sink catches up from the store instead of dropping records', async (t) => {
  const receiver = await startReceiver(5);
  t.after(() => receiver.close());
  const store = createMemoryAuditStore();
  const sink = createWebhookSink({
    url: receiver.url,
    fetch: httpFetch,
    readFrom: (seq, limit) => store.readFrom(seq, limit),
    maxQueue: 10,
    batchSize: 7,
    initialBackoffMs: 5,
    maxBackoffMs: 10,
  });
  const log = await createAuditLog({ store, keys, sinks: [sink] });
  for (let i = 0; i < 120; i++) await log.append(sampleEntry(i));
  assert.ok(sink.stats().queued <= 10, 'the in-memory queue stays bounded');
  await log.close();
  assert.deepEqual(
    [...new Set(receiver.received)].sort((a, b) => a - b),
    Array.from({ length: 120 }, (_, i) => i + 1),
  );
  const inOrder = receiver.received.every((seq, i, all) => i === 0 || seq > (all[i - 1] as number));
  assert.ok(inOrder, 'records arrive in seq order');
});

test('a batch refused for good is dead-lettered after three tries, as it was, and delivery moves on', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-dead-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const deadLetterFile = path.join(dir, 'dead.jsonl');
  const attempts: number[][] = [];
  const delivery = deliverInOrder({
    readFrom: () => Promise.resolve([]),
    initialBackoffMs: 20,
    deadLetterFile,
    async deliver(batch) {
      attempts.push(batch.map((r) => r.seq));
      if (batch.some((r) => r.seq === 2)) throw new PermanentDeliveryError('refused: 422');
      return Promise.resolve();
    },
  });
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys, sinks: [{ name: 'x', ...delivery }] });
  await log.append(sampleEntry(1));
  await log.append(sampleEntry(2));
  // Arrives while the batch holding seq 2 is being retried: it must not be dead-lettered with it.
  await new Promise((r) => setTimeout(r, 30));
  await log.append(sampleEntry(3));
  for (let i = 0; i < 100 && delivery.stats().delivered < 2; i++) await new Promise((r) => setTimeout(r, 20));
  await log.close();
  const dead = (await readFile(deadLetterFile, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { deadLetter: { reason: string }; record: { seq: number } });
  assert.deepEqual(
    dead.map((d) => d.record.seq),
    [2],
  );
  assert.match(dead[0]!.deadLetter.reason, /422/);
  assert.deepEqual(
    attempts.filter((a) => a.includes(2)),
    [[2], [2], [2]],
  );
  assert.ok(
    attempts.some((a) => a.includes(3)),
    'seq 3 delivered after the dead-lettered batch',
  );
  assert.equal(delivery.stats().deadLettered, 1);
});

test('when the dead-letter file cannot be written, the refused batch is kept and retried, not lost', async () => {
  let tries = 0;
  const delivery = deliverInOrder({
    readFrom: () => Promise.resolve([]),
    initialBackoffMs: 5,
    maxBackoffMs: 5,
    closeTimeoutMs: 50,
    deadLetterFile: '/proc/no-such-dir/dead.jsonl',
    deliver() {
      tries += 1;
      return Promise.reject(new PermanentDeliveryError('refused'));
    },
  });
  const log = await createAuditLog({
    store: createMemoryAuditStore(),
    keys,
    sinks: [{ name: 'x', ...delivery }],
  });
  await log.append(sampleEntry(1));
  for (let i = 0; i < 100 && tries < 8; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(tries >= 8, 'still retrying');
  assert.equal(delivery.stats().deadLettered, 0);
  assert.equal(delivery.stats().delivered, 0);
  await log.close();
});

test('the JSON-lines file sink opens its file again after a failed open, instead of failing for good', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-sink-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'later', 'audit.jsonl');
  const sink = createJsonlFileSink({ file });
  const store = createMemoryAuditStore();
  const log = await createAuditLog({ store, keys, sinks: [sink] });
  await log.append(sampleEntry(1));
  for (let i = 0; i < 100 && sink.failures() === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(sink.failures(), 1, 'no directory yet: the first batch fails (and is reported)');
  await mkdir(path.dirname(file));
  await log.append(sampleEntry(2));
  await log.close();
  const seqs = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { seq: number }).seq);
  assert.deepEqual(seqs, [2]);
});
