import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  canonicalJson,
  loadAuditKeys,
  openSqliteAuditStore,
  verifyAuditStore,
  type AuditRecord,
} from '../../src/audit/index.js';
import {
  auditTip,
  callWithBothSdks,
  countNotes,
  legacyToolCall,
  recordsAfter,
} from '../helpers/audit-records.js';
import { runCli, startCli } from '../helpers/cli.js';
import { postMcp, readRpc, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { capturingLogger, eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

const LEDGER_SERVER = path.resolve(import.meta.dirname, '../fixtures/ledger-server.js');
// The fixture's dependencies, by real path (a worktree may link node_modules from elsewhere).
const MODULES = fs.realpathSync(path.resolve(import.meta.dirname, '../../../node_modules'));

/** The ledger upstream, classified by the operator as a plain write tool. */
function ledgerUpstream(ledgerFile: string) {
  return {
    name: 'ledger',
    stdio: { command: NODE, args: [LEDGER_SERVER, ledgerFile] },
    sandbox: { writable: [path.dirname(ledgerFile)], readable: [MODULES] },
    pinning: 'trust-on-first-use',
    tools: { '*': { class: 'write', labels: [] } },
  };
}

const ledgerLines = (file: string) =>
  fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

/** A raw body, so that `1e999` reaches the gateway as JSON text (JSON.stringify cannot write it). */
const rawCall = (name: string, argsJson: string) =>
  `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":${JSON.stringify(name)},"arguments":${argsJson}}}`;

describe('tool calls that would run or end without their audit record', () => {
  let t: TestGateway;
  let key: string;
  let readOnly: string;
  const ledgerDir = tempDir('portcullis-ledger-');
  const ledger = path.join(ledgerDir, 'ledger.jsonl');

  before(async () => {
    t = await startTestGateway({ config: upstreamsConfig([ledgerUpstream(ledger)]) });
    key = (await t.key({ scopes: ['memory:read', 'memory:write', 'ledger:write'] })).key;
    readOnly = (await t.key({ owner: 'bob', scopes: ['memory:read'] })).key;
  });
  after(async () => {
    await t.close();
    fs.rmSync(ledgerDir, { recursive: true, force: true });
  });

  it('a non-finite number (1e999) in an upstream call is refused with -32602 before the tool runs, and recorded once', async () => {
    const tip = await auditTip(t);
    const res = await postMcp(t.url, undefined, {
      key,
      raw: rawCall('ledger__append', '{"entry":{"amount":1e999}}'),
    });
    assert.equal(res.status, 200);
    const body = await readRpc(res);
    assert.equal(body.error?.code, -32602, JSON.stringify(body));
    assert.match(body.error.message, /not a finite number|non-finite/i);
    assert.deepEqual(ledgerLines(ledger), [], 'the upstream tool never ran');
    const records = await recordsAfter(t, tip, 'tool-call');
    assert.equal(records.length, 1);
    assert.equal(records[0]!.outcome, 'invalid');
    assert.equal(records[0]!.tool, 'ledger__append');
    assert.ok(records[0]!.reasons.includes('arguments-not-canonical'), JSON.stringify(records[0]));
  });

  for (const [what, name, who] of [
    ['a built-in tool', 'memory_save', 'full'],
    ['a scope-denied call', 'memory_save', 'read-only'],
    ['an unknown tool', 'no_such_tool', 'full'],
  ] as const) {
    it(`a non-finite number sent to ${what} is refused with -32602 and recorded once`, async () => {
      const notes = countNotes(t.dataDir);
      const tip = await auditTip(t);
      const res = await postMcp(t.url, undefined, {
        key: who === 'full' ? key : readOnly,
        raw: rawCall(name, '{"content":"never stored","tags":[],"n":-1e999}'),
      });
      assert.equal(res.status, 200);
      assert.equal((await readRpc(res)).error?.code, -32602);
      assert.equal(countNotes(t.dataDir), notes);
      const records = await recordsAfter(t, tip, 'tool-call');
      assert.equal(records.length, 1, JSON.stringify(records));
      assert.equal(records[0]!.outcome, 'invalid');
      assert.equal(
        records[0]!.args,
        undefined,
        'arguments that cannot be hashed canonically are not described',
      );
    });
  }

  const malformed: [string, unknown][] = [
    ['no name', { arguments: { content: 'x' } }],
    ['a numeric name', { name: 7, arguments: { content: 'x' } }],
    ['an object name', { name: { toString: 'memory_save' }, arguments: { content: 'x' } }],
    ['array arguments', { name: 'memory_save', arguments: ['x'] }],
    ['string arguments', { name: 'memory_save', arguments: 'content=x' }],
    ['null arguments', { name: 'memory_save', arguments: null }],
  ];
  for (const [what, params] of malformed) {
    it(`a tools/call with ${what} gets -32602 and exactly one record`, async () => {
      const notes = countNotes(t.dataDir);
      const tip = await auditTip(t);
      const res = await postMcp(t.url, { jsonrpc: '2.0', id: 9, method: 'tools/call', params }, { key });
      assert.equal(res.status, 200);
      const body = await readRpc(res);
      assert.equal(body.error?.code, -32602, JSON.stringify(body));
      assert.equal(body.id, 9);
      assert.equal(countNotes(t.dataDir), notes);
      const records = await recordsAfter(t, tip, 'tool-call');
      assert.equal(records.length, 1);
      assert.equal(records[0]!.outcome, 'invalid');
      assert.ok(records[0]!.reasons.includes('params-malformed'), JSON.stringify(records[0]));
    });
  }

  it('an internal failure of a write is HTTP 500 with a correlation id, stores nothing and is recorded once', async () => {
    // Another writer holds the notes database: the save cannot commit and fails inside the tool.
    const db = new Database(path.join(t.dataDir, 'portcullis.db'));
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN IMMEDIATE');
    const tip = await auditTip(t);
    const notes = countNotes(t.dataDir);
    let res: Response;
    try {
      res = await postMcp(t.url, legacyToolCall('memory_save', { content: 'blocked write' }), { key });
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    assert.equal(res.status, 500);
    const body = (await res.json()) as { error: { code: number; message: string } };
    assert.equal(body.error.code, -32603);
    assert.match(body.error.message, new RegExp(res.headers.get('x-request-id')!));
    assert.equal(countNotes(t.dataDir), notes);
    const records = await recordsAfter(t, tip, 'tool-call');
    assert.equal(records.length, 1);
    assert.equal(records[0]!.outcome, 'failed');
    assert.equal(records[0]!.correlationId, res.headers.get('x-request-id'));
  });

  it('beside them, an SDK v2 client (2026-07-28) and an SDK 1.x client (2025-11-25) save, append and are recorded once per call', async () => {
    const tip = await auditTip(t);
    const notes = countNotes(t.dataDir);
    await callWithBothSdks(t.url, key, [
      { name: 'memory_save', arguments: { content: 'kept' } },
      { name: 'ledger__append', arguments: { entry: { amount: 12.5 } } },
    ]);
    assert.equal(countNotes(t.dataDir), notes + 2);
    assert.equal(ledgerLines(ledger).length, 2);
    const calls = await recordsAfter(t, tip, 'tool-call');
    assert.deepEqual(
      calls.map((r) => r.outcome),
      ['ok', 'ok', 'ok', 'ok'],
    );
    // Each write committed its intent before it ran: one intent per call, same correlation id.
    const intents = await recordsAfter(t, tip, 'tool-intent');
    assert.deepEqual(intents.map((r) => r.correlationId).sort(), calls.map((r) => r.correlationId).sort());
  });
});

describe('an audit store that cannot commit', () => {
  let t: TestGateway;
  let key: string;
  const log = capturingLogger();
  before(async () => {
    t = await startTestGateway({ logger: log.logger });
    key = (await t.key()).key;
  });
  after(() => t.close());

  it('a write does not run while another writer holds the audit database: 503 with Retry-After and an alert; it runs once released', async () => {
    const notes = countNotes(t.dataDir);
    const lock = new Database(path.join(t.dataDir, 'audit.db'));
    lock.pragma('busy_timeout = 0');
    lock.exec('BEGIN IMMEDIATE');
    let res: Response;
    try {
      res = await postMcp(t.url, legacyToolCall('memory_save', { content: 'refused while locked' }), { key });
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    assert.equal(res.status, 503);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32603);
    assert.equal(countNotes(t.dataDir), notes, 'the tool did not run');
    assert.ok(log.lines.some((l) => l.includes('"alert":"audit-unavailable"')));
    const metrics = await (await fetch(t.gw.metricsUrl!)).text();
    assert.match(metrics, /portcullis_audit_commit_failures_total [1-9]/);

    const retried = await postMcp(t.url, legacyToolCall('memory_save', { content: 'stored once free' }), {
      key,
    });
    assert.equal(retried.status, 200);
    assert.equal(countNotes(t.dataDir), notes + 1);
  });
});

/** HMAC of canonical arguments under the audit args key, as the records carry it. */
function argsHash(key: Buffer, args: unknown): string {
  return createHmac('sha256', key).update(canonicalJson(args)).digest('hex');
}

describe('a full disk under the data directory', () => {
  const mountPoint = tempDir('portcullis-tmpfs-');
  let t: TestGateway | undefined;
  let key: string;
  before(() => {
    // A small disk of its own (the machine and CI run as root): the data dir fills up for real.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', mountPoint]);
  });
  after(async () => {
    await t?.close().catch(() => undefined);
    execFileSync('umount', [mountPoint]);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });

  it('stores no note without its record: every call answered 200 has both, the others neither, and the chain verifies', async () => {
    const dataDir = path.join(mountPoint, 'data');
    t = await startTestGateway({ dataDir });
    key = (await t.key()).key;
    // Fill the disk to the last 256 KiB: a few notes fit, then every write runs out of room.
    const reserve = path.join(mountPoint, 'reserve');
    fs.writeFileSync(reserve, Buffer.alloc(256 * 1024, 1));
    const filler = path.join(mountPoint, 'filler');
    const fd = fs.openSync(filler, 'w');
    try {
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    fs.rmSync(reserve);

    const answered = new Map<string, number>();
    for (let i = 0; i < 40 && ![...answered.values()].some((s) => s >= 500); i++) {
      const content = `note ${i} ${'x'.repeat(19_000)}`;
      const res = await postMcp(t.url, legacyToolCall('memory_save', { content }), { key });
      await res.text();
      answered.set(content, res.status);
    }
    const statuses = [...answered.values()];
    assert.ok(
      statuses.some((s) => s === 503 || s === 500),
      `the disk never filled: ${statuses.join(',')}`,
    );
    assert.ok(
      statuses.every((s) => s === 200 || s === 503 || s === 500),
      statuses.join(','),
    );

    // Free the disk and restart: the recovery pass closes whatever the full disk left open.
    fs.rmSync(filler);
    await t.gw.close();
    t = await startTestGateway({ dataDir });
    const calls = (await t.audit.log.query({ limit: 100_000 })).filter(
      (r: AuditRecord) => r.event === 'tool-call' && r.tool === 'memory_save',
    );
    const { argsHmacKey } = await loadAuditKeys(path.join(dataDir, 'keys'));
    const db = new Database(path.join(dataDir, 'portcullis.db'), { readonly: true });
    const stored = new Set(
      (db.prepare('SELECT content FROM notes').all() as { content: string }[]).map((n) => n.content),
    );
    db.close();
    for (const [content, status] of answered) {
      const records = calls.filter((r) => r.args?.hash === argsHash(argsHmacKey, { content }));
      const what = `a call answered ${status}, ${stored.has(content) ? 'stored' : 'not stored'}`;
      assert.ok(records.length <= 1, `${what} has ${records.length} records`);
      const record = records[0];
      if (status === 200) {
        assert.ok(stored.has(content) && record?.outcome === 'ok', what);
      } else if (status === 503) {
        // Refused before the tool ran: nothing was stored.
        assert.ok(!stored.has(content), what);
      } else if (stored.has(content)) {
        // The note committed but its outcome record did not: the intent was on disk first, and
        // the restart recorded the call as interrupted after its write.
        assert.equal(record?.outcome, 'interrupted', what);
        assert.equal(record.errorCode, 'effect-committed', what);
      }
      if (stored.has(content)) assert.ok(record, `${what} has no audit record`);
    }
    const verdict = await verifyAuditStore(t.audit.store, t.audit.keys.publicKey);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    const again = await postMcp(t.url, legacyToolCall('memory_save', { content: 'room again' }), { key });
    assert.equal(again.status, 200);
  });
});

describe('an upstream call in flight at kill -9', () => {
  const dir = tempDir('portcullis-intent-');
  const ledgerDir = tempDir('portcullis-ledger-');
  const ledger = path.join(ledgerDir, 'ledger.jsonl');
  after(() => {
    for (const d of [dir, ledgerDir]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('has its intent on disk before it runs, and the restarted gateway records it as interrupted', async () => {
    const init = await runCli(['init', '--data-dir', dir]);
    assert.equal(init.code, 0, init.stderr);
    fs.writeFileSync(path.join(dir, 'portcullis.yaml'), upstreamsConfig([ledgerUpstream(ledger)]));
    const created = await runCli([
      'keys',
      'create',
      '--owner',
      'alice',
      '--scopes',
      'ledger:write',
      '--json',
      '--data-dir',
      dir,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const key = (JSON.parse(created.stdout) as { key: string }).key;
    const { child, banner } = await startCli(['--data-dir', dir, '--port', '0']);
    const exited = new Promise((r) => child.once('exit', r));
    let intent: AuditRecord;
    try {
      const url = /MCP endpoint: (\S+)/.exec(banner)![1]!;
      const pending = postMcp(url, legacyToolCall('ledger__slow', { entry: { n: 1 }, ms: 60_000 }), {
        key,
      }).catch(() => undefined);
      intent = await eventually(async () => {
        const store = openSqliteAuditStore({ file: path.join(dir, 'audit.db') });
        try {
          return (await store.query({ tool: 'ledger__slow', limit: 10 })).find(
            (r) => r.event === 'tool-intent',
          );
        } finally {
          await store.close();
        }
      }, 'the intent record');
      child.kill('SIGKILL');
      await exited;
      await pending;
    } finally {
      child.kill('SIGKILL');
    }

    const again = await startCli(['--data-dir', dir, '--port', '0']);
    again.child.kill('SIGTERM');
    await new Promise((r) => again.child.once('exit', r));

    const store = openSqliteAuditStore({ file: path.join(dir, 'audit.db') });
    try {
      const closing = (await store.query({ tool: 'ledger__slow', limit: 10 })).filter(
        (r) => r.event === 'tool-call',
      );
      assert.equal(closing.length, 1);
      assert.equal(closing[0]!.correlationId, intent.correlationId);
      assert.equal(closing[0]!.outcome, 'interrupted');
      assert.equal(closing[0]!.errorCode, 'effect-unknown');
      const keys = await loadAuditKeys(path.join(dir, 'keys'));
      const verdict = await verifyAuditStore(store, keys.publicKey);
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
    } finally {
      await store.close();
    }
    assert.deepEqual(ledgerLines(ledger), []);
    const verify = await runCli(['audit', 'verify', '--data-dir', dir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
