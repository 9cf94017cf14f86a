import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postMcp, readRpc, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { runCli } from '../helpers/cli.js';
import { TEST_CERT, TEST_KEY, trustTestCertificate } from '../helpers/oauth-tls.js';
import { startSyslogReceiver } from '../helpers/syslog-receiver.js';

const call = (name: string, args: unknown, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

/** An https collector on loopback that refuses the first `refuse` posts with 400. */
async function startCollector(refuse: number) {
  const lines: Record<string, unknown>[] = [];
  let posts = 0;
  const server: Server = createServer({ cert: TEST_CERT, key: TEST_KEY }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      posts += 1;
      if (posts <= refuse) {
        res.writeHead(400).end();
        return;
      }
      for (const l of body.trim().split('\n')) lines.push(JSON.parse(l) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    lines,
    posts: () => posts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('SIEM exports: OCSF over syslog/TLS, https with a dead-letter file, and JSON lines', () => {
  let t: TestGateway;
  let receiver: Awaited<ReturnType<typeof startSyslogReceiver>>;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  const dataDir = tempDir();

  before(async () => {
    trustTestCertificate();
    receiver = await startSyslogReceiver();
    collector = await startCollector(3);
    fs.writeFileSync(path.join(dataDir, 'siem-ca.pem'), TEST_CERT);
    t = await startTestGateway({
      dataDir,
      config: [
        'audit:',
        '  siem:',
        '    - kind: syslog',
        '      host: 127.0.0.1',
        `      port: ${receiver.port}`,
        '      ca: siem-ca.pem',
        '      allowPrivateAddress: true',
        '    - kind: https',
        `      url: ${collector.url}`,
        '      allowPrivateAddress: true',
        '    - kind: jsonl',
        '      file: ocsf.jsonl',
        '',
      ].join('\n'),
    });
  });
  after(async () => {
    await t.close();
    await receiver.close();
    await collector.close();
  });

  it('sends each committed record as one RFC 5424 message holding a valid OCSF event, in order, across a reconnect', async () => {
    const { key } = await t.key({ owner: 'alice' });
    const res = await postMcp(t.url, call('memory_save', { content: 'siem note' }), { key });
    assert.equal(res.status, 200);
    await readRpc(res);
    const first = await until('the tool call over syslog', () =>
      receiver.messages.find((m) => m.msgid === 'tool-call'),
    );
    assert.equal(first.hadBom, true);
    assert.equal(first.pri, 13 * 8 + 6); // log audit, informational
    const event = JSON.parse(first.text) as Record<string, unknown>;
    assert.equal(event.class_uid, 6003);
    assert.equal((event.api as { operation: string }).operation, 'tools/call');
    assert.equal((event.actor as { user: { uid: string } }).user.uid, 'alice');
    assert.equal((event.resources as { name: string }[])[0]?.name, 'memory_save');

    // The receiver drops the connection; the next records arrive on a new one.
    receiver.dropConnections();
    const denied = await postMcp(t.url, call('memory_save', { content: 'x' }), { key: 'pc_wrong' });
    await denied.text();
    const again = await postMcp(t.url, call('memory_search', { query: 'siem' }, 2), { key });
    await readRpc(again);
    await until(
      'the search over syslog',
      () =>
        receiver.messages.some(
          (m) =>
            m.msgid === 'tool-call' &&
            (JSON.parse(m.text) as { resources?: { name: string }[] }).resources?.[0]?.name ===
              'memory_search',
        ) || undefined,
    );
    assert.ok(receiver.connections() >= 2, 'reconnected');
    const seqs = receiver.messages.map(
      (m) => (JSON.parse(m.text) as { metadata: { sequence: number } }).metadata.sequence,
    );
    const unique = [...new Set(seqs)];
    assert.deepEqual(
      unique,
      [...unique].sort((a, b) => a - b),
      'in seq order',
    );
    const head = (await t.audit.store.head())?.seq ?? 0;
    for (let s = 1; s <= Math.max(...unique); s++)
      assert.ok(unique.includes(s), `seq ${s} delivered (head ${head})`);
    const failedLogin = receiver.messages
      .map((m) => JSON.parse(m.text) as Record<string, unknown>)
      .find((e) => e.class_uid === 3002 && e.status_id === 2);
    assert.ok(failedLogin, 'the refused key is an Authentication failure');
  });

  it('puts a batch the collector refuses for good in the dead-letter file, and delivers what follows', async () => {
    const deadFile = path.join(dataDir, 'audit-dead-letter.jsonl');
    await until('the dead-letter file', () => (fs.existsSync(deadFile) ? true : undefined));
    const { key } = await t.key({ owner: 'bob' });
    const res = await postMcp(t.url, call('memory_save', { content: 'after the refusals' }), { key });
    await readRpc(res);
    const delivered = await until('records after the dead-lettered batch', () =>
      collector.lines.find((l) => (l.actor as { user?: { uid?: string } } | undefined)?.user?.uid === 'bob'),
    );
    assert.equal(delivered.class_uid, 6003);
    const dead = fs
      .readFileSync(deadFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { deadLetter: { reason: string }; record: { seq: number } });
    assert.ok(dead.length >= 1);
    assert.match(dead[0]!.deadLetter.reason, /400/);
    assert.ok(collector.posts() >= 4, 'three refusals, then a delivery');
    // Nothing is lost between the two: every seq is either dead-lettered or delivered.
    const got = new Set([
      ...dead.map((d) => d.record.seq),
      ...collector.lines.map((l) => (l.metadata as { sequence: number }).sequence),
    ]);
    const maxSeq = Math.max(...got);
    for (let s = 1; s <= maxSeq; s++) assert.ok(got.has(s), `seq ${s} accounted for`);
    assert.equal(fs.statSync(deadFile).mode & 0o777, 0o600);
  });

  it('writes the same OCSF events to the JSON-lines export', async () => {
    const lines = await until('the JSON-lines export', () => {
      const file = path.join(dataDir, 'ocsf.jsonl');
      if (!fs.existsSync(file)) return undefined;
      const l = fs.readFileSync(file, 'utf8').trim().split('\n');
      return l.length >= 2 ? l : undefined;
    });
    const first = JSON.parse(lines[0]!) as { class_uid: number; metadata: { version: string } };
    assert.equal(first.metadata.version, '1.3.0');
    assert.ok([3001, 3002, 6003].includes(first.class_uid));
  });
});

describe('portcullis audit export --format ocsf', () => {
  it('writes each matching record as an OCSF event, and refuses an unknown format with a usage error', async () => {
    const t = await startTestGateway();
    try {
      const { key } = await t.key({ owner: 'carol' });
      await readRpc(await postMcp(t.url, call('memory_save', { content: 'export me' }), { key }));
      const ocsf = await runCli([
        'audit',
        'export',
        '--format',
        'ocsf',
        '--principal',
        'carol',
        '--data-dir',
        t.dataDir,
      ]);
      assert.equal(ocsf.code, 0, ocsf.stderr);
      const events = ocsf.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { class_uid: number; actor: { user: { uid: string } } });
      assert.ok(events.length >= 1);
      for (const e of events) {
        assert.equal(e.class_uid, 6003);
        assert.equal(e.actor.user.uid, 'carol');
      }
      const bad = await runCli(['audit', 'export', '--format', 'xml', '--data-dir', t.dataDir]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--format must be record or ocsf/);
    } finally {
      await t.close();
    }
  });
});
