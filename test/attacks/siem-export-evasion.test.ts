import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createSyslogSink, syslogSeverityOf, toOcsf, type AuditRecord } from '../../src/audit/index.js';
import { createEgressGuard, INTERNAL_NETWORK_RANGES } from '../../src/egress/index.js';
import { auditTip, legacyToolCall } from '../helpers/audit-records.js';
import { postMcp, readRpc, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { TEST_CERT, TEST_KEY } from '../helpers/oauth-tls.js';
import { startSyslogReceiver } from '../helpers/syslog-receiver.js';

/*
 * Attacks that keep records away from the SIEM without forging anything: one oversize record
 * that drags the records batched with it into the dead-letter file, a receiver that stops reading
 * and stalls the export without a single failure counted, records committed during a
 * catch-up read that are never sent, and a JSON-lines export that skips what it could not write.
 * Each legitimate delivery beside them still works.
 */

let seq = 0;
function record(overrides: Partial<AuditRecord> = {}): AuditRecord {
  seq += 1;
  return {
    seq,
    time: new Date().toISOString(),
    prevHash: '0'.repeat(64),
    hash: '1'.repeat(64),
    commitments: {},
    correlationId: `c-${seq}`,
    principal: 'alice',
    event: 'tool-call',
    tool: 'memory_save',
    decision: 'allow',
    reasons: [],
    outcome: 'ok',
    latencyMs: 1,
    bytesIn: 1,
    bytesOut: 1,
    ...overrides,
  };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function syslogSink(
  port: number,
  extra: Partial<Parameters<typeof createSyslogSink>[0]> = {},
): { sink: ReturnType<typeof createSyslogSink>; failures: unknown[]; close(): Promise<void> } {
  const guard = createEgressGuard({ allowHosts: ['127.0.0.1'], allowAddresses: INTERNAL_NETWORK_RANGES });
  const failures: unknown[] = [];
  const sink = createSyslogSink({
    connect: () => guard.connectTls({ host: '127.0.0.1', port, ca: TEST_CERT }),
    encode: (r) => JSON.stringify(toOcsf(r, { productVersion: 'test' })),
    severityOf: syslogSeverityOf,
    readFrom: () => Promise.resolve([]),
    initialBackoffMs: 10,
    maxBackoffMs: 20,
    closeTimeoutMs: 500,
    onFailure: (err) => failures.push(err),
    ...extra,
  });
  return {
    sink,
    failures,
    async close() {
      await sink.close();
      await guard.close();
    },
  };
}

const seqOf = (text: string) => (JSON.parse(text) as { metadata: { sequence: number } }).metadata.sequence;

describe('SIEM export: one oversize record cannot take its neighbours to the dead-letter file', () => {
  const dir = tempDir('pc-siem-evasion-');
  let receiver: Awaited<ReturnType<typeof startSyslogReceiver>>;
  before(async () => (receiver = await startSyslogReceiver()));
  after(async () => {
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a caller-provoked record over the syslog limit is dead-lettered alone; the records batched with it arrive', async () => {
    const deadLetterFile = path.join(dir, 'dead.jsonl');
    const s = syslogSink(receiver.port, { deadLetterFile });
    // A tools/call naming a 70 000-character "tool": the unknown-tool record carries the name.
    const before = record({ principal: 'bob', tool: 'memory_get' });
    const huge = record({
      principal: 'mallory',
      tool: 'x'.repeat(70_000),
      decision: 'deny',
      reasons: ['unknown-tool'],
      outcome: 'invalid',
    });
    const afterIt = record({ principal: 'carol', tool: 'memory_delete' });
    s.sink.write([before, huge, afterIt]);
    for (let i = 0; i < 200 && s.sink.stats().delivered + s.sink.stats().deadLettered < 3; i++)
      await wait(20);
    await wait(50);
    await s.close();
    const dead = fs
      .readFileSync(deadLetterFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { record: AuditRecord }).record.seq);
    assert.deepEqual(dead, [huge.seq], 'only the oversize record is dead-lettered');
    const arrived = receiver.messages.map((m) => seqOf(m.text));
    assert.ok(arrived.includes(before.seq), "bob's record reached the SIEM");
    assert.ok(arrived.includes(afterIt.seq), "carol's record reached the SIEM");
    assert.ok(!arrived.includes(huge.seq));
  });
});

describe('SIEM export: a receiver that stops reading cannot stall the export silently', () => {
  let server: tls.Server;
  let port: number;
  const held: tls.TLSSocket[] = [];
  before(async () => {
    // Completes the handshake, then never reads a byte: the TCP windows fill and writes stop.
    server = tls.createServer({ cert: TEST_CERT, key: TEST_KEY }, (socket) => {
      held.push(socket);
      socket.on('error', () => socket.destroy());
      socket.pause();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('a write the receiver never takes is a counted failure within the write deadline', async () => {
    const s = syslogSink(port, { maxMessageBytes: 1024 * 1024, writeTimeoutMs: 400, closeTimeoutMs: 200 });
    // 40 messages of ~400 KB: far more than the loopback socket buffers hold.
    s.sink.write(Array.from({ length: 40 }, () => record({ tool: 'y'.repeat(200_000) })));
    for (let i = 0; i < 150 && s.failures.length === 0; i++) await wait(20);
    await s.close();
    assert.ok(s.failures.length > 0, 'the stalled write is reported as a failure');
    assert.match(String((s.failures[0] as Error).message), /did not take the batch within 400 ms/);
    assert.equal(s.sink.stats().delivered, 0);
  });

  it('a receiver that reads gets the same kind of batch within the deadline', async () => {
    const receiver = await startSyslogReceiver();
    const s = syslogSink(receiver.port, { maxMessageBytes: 1024 * 1024, writeTimeoutMs: 2_000 });
    s.sink.write(Array.from({ length: 3 }, () => record({ tool: 'y'.repeat(200_000) })));
    await receiver.waitFor(3);
    await s.close();
    await receiver.close();
    assert.equal(s.failures.length, 0);
  });
});

describe('SIEM export: a record committed during a catch-up read is not left behind', () => {
  let receiver: Awaited<ReturnType<typeof startSyslogReceiver>>;
  before(async () => (receiver = await startSyslogReceiver()));
  after(() => receiver.close());

  it('is delivered without waiting for a later record', async () => {
    // The primary store, and a read of it that the test holds open while another record commits.
    const store: AuditRecord[] = [];
    let release: (() => void) | undefined;
    let reads = 0;
    const readFrom = async (from: number, limit: number): Promise<AuditRecord[]> => {
      reads += 1;
      const snapshot = store.filter((r) => r.seq >= from).slice(0, limit);
      if (reads === 1) await new Promise<void>((r) => (release = r));
      return snapshot;
    };
    const s = syslogSink(receiver.port, { readFrom, maxQueue: 2, batchSize: 10 });
    const first = [record(), record(), record()];
    store.push(...first);
    // Three records overflow a queue of two: the export drops its copies and reads the store.
    s.sink.write(first);
    for (let i = 0; i < 100 && release === undefined; i++) await wait(10);
    assert.ok(release, 'the export is catching up from the store');
    const last = record({ tool: 'memory_delete' });
    store.push(last);
    s.sink.write([last]); // committed while the read is in flight, so it is not in the read
    release();
    // The last record before a quiet period (or a shutdown): nothing comes after it.
    try {
      await receiver.waitFor(4, 2_000);
    } catch {
      // asserted below
    }
    await s.close();
    const arrived = receiver.messages.map((m) => seqOf(m.text));
    for (const r of [...first, last]) assert.ok(arrived.includes(r.seq), `seq ${r.seq} reached the SIEM`);
  });
});

describe('SIEM export: a JSON-lines export that cannot write for a while loses nothing', () => {
  let t: TestGateway;
  const dataDir = tempDir('pc-siem-jsonl-');
  before(async () => {
    // The export's directory is not there yet (a volume mounted late, a full disk cleaned later).
    t = await startTestGateway({
      dataDir,
      config: ['audit:', '  siem:', '    - kind: jsonl', '      file: late/ocsf.jsonl', ''].join('\n'),
    });
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('every committed record reaches the file, in order, once it can be written', async () => {
    const { key } = await t.key({ owner: 'alice' });
    const call = (i: number) =>
      postMcp(t.url, legacyToolCall('memory_save', { content: `note ${i}` }, i), { key }).then(readRpc);
    for (let i = 1; i <= 3; i++) await call(i);
    await wait(300); // the first appends fail: no directory
    fs.mkdirSync(path.join(dataDir, 'late'));
    for (let i = 4; i <= 6; i++) await call(i);
    const tip = await auditTip(t);
    const file = path.join(dataDir, 'late', 'ocsf.jsonl');
    const seqs = () =>
      fs.existsSync(file)
        ? fs
            .readFileSync(file, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => seqOf(l))
        : [];
    for (let i = 0; i < 400 && !seqs().includes(tip); i++) await wait(25);
    await t.gw.close();
    assert.deepEqual(
      seqs(),
      Array.from({ length: tip }, (_, i) => i + 1),
      'every record from seq 1 to the tip, in order, none twice',
    );
  });
});
