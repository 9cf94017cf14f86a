import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  auditTip,
  callWithBothSdks,
  countNotes,
  legacyToolCall,
  recordsAfter,
} from '../helpers/audit-records.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { capturingLogger, eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

const LEDGER_SERVER = path.resolve(import.meta.dirname, '../fixtures/ledger-server.js');
// The fixture's dependencies, by real path (a worktree may link node_modules from elsewhere).
const MODULES = fs.realpathSync(path.resolve(import.meta.dirname, '../../../node_modules'));

/** POSTs `body` with chunked transfer encoding; `cutAfter` bytes in, the client drops the socket. */
function chunkedPost(url: string, key: string, body: string, cutAfter?: number): Promise<number | 'cut'> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        'transfer-encoding': 'chunked',
        authorization: `Bearer ${key}`,
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err) => (cutAfter === undefined ? reject(err) : resolve('cut')));
    if (cutAfter === undefined) {
      req.end(body);
      return;
    }
    req.write(body.slice(0, cutAfter));
    // Let the gateway start reading, then go away mid-body.
    setTimeout(() => {
      req.destroy();
      resolve('cut');
    }, 150);
  });
}

const metricValue = (metrics: string, route: string, status: string) =>
  Number(
    new RegExp(`portcullis_requests_total\\{route="${route}",status="${status}"\\} (\\d+)`).exec(
      metrics,
    )?.[1] ?? 0,
  );

/** pino's numeric levels: 50 is error, 60 fatal. */
const errorLines = (lines: readonly string[]) =>
  lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);

describe('clients that go away', () => {
  let t: TestGateway;
  let key: string;
  const log = capturingLogger();
  const ledgerDir = tempDir('portcullis-ledger-');
  const ledger = path.join(ledgerDir, 'ledger.jsonl');
  before(async () => {
    t = await startTestGateway({
      logger: log.logger,
      config: upstreamsConfig([
        {
          name: 'ledger',
          stdio: { command: NODE, args: [LEDGER_SERVER, ledger] },
          sandbox: { writable: [ledgerDir], readable: [MODULES] },
          pinning: 'trust-on-first-use',
          tools: { '*': { class: 'write', labels: [] } },
        },
      ]),
    });
    key = (await t.key({ scopes: ['memory:write', 'ledger:write'] })).key;
  });
  after(async () => {
    await t.close();
    fs.rmSync(ledgerDir, { recursive: true, force: true });
  });

  it('a chunked POST cut off mid-body is counted as a client abort, not a 500, and logged below error level', async () => {
    const before500 = metricValue(await (await fetch(t.gw.metricsUrl!)).text(), '/mcp', '500');
    const notes = countNotes(t.dataDir);
    const body = JSON.stringify(legacyToolCall('memory_save', { content: 'x'.repeat(5000) }));
    for (let i = 0; i < 5; i++) assert.equal(await chunkedPost(t.url, key, body, 100), 'cut');
    const metrics = await eventually(async () => {
      const text = await (await fetch(t.gw.metricsUrl!)).text();
      return metricValue(text, '/mcp', '499') >= 5 ? text : undefined;
    }, 'the aborts to be counted');
    assert.equal(metricValue(metrics, '/mcp', '500'), before500);
    assert.deepEqual(errorLines(log.lines), []);
    assert.ok(!log.lines.some((l) => l.includes('unhandled error')));
    assert.equal(countNotes(t.dataDir), notes);
  });

  it('a client that goes away while its tool call runs leaves one record that says so, and the call is cancelled', async () => {
    const tip = await auditTip(t);
    const abort = new AbortController();
    const pending = fetch(t.url, {
      method: 'POST',
      signal: abort.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify(legacyToolCall('ledger__slow', { entry: { n: 1 }, ms: 30_000 })),
    }).catch((err: Error) => err);
    await eventually(
      async () => ((await recordsAfter(t, tip, 'tool-intent')).length > 0 ? true : undefined),
      'the call to start',
    );
    abort.abort();
    // An upstream call streams its notifications, so the response may have started (200, an
    // event stream) before the client left: either way the client is gone and nothing is lost.
    const got = await pending;
    assert.ok(got instanceof Error || got.body !== null);
    const [record] = await eventually(async () => {
      const calls = await recordsAfter(t, tip, 'tool-call');
      return calls.length > 0 ? calls : undefined;
    }, 'the call to be recorded');
    assert.ok(record!.reasons.includes('client-disconnected'), JSON.stringify(record));
    assert.equal(record!.errorCode, 'client-disconnected');
    assert.equal((await recordsAfter(t, tip, 'tool-call')).length, 1);
    assert.deepEqual(fs.existsSync(ledger) ? fs.readFileSync(ledger, 'utf8') : '', '');
    assert.deepEqual(errorLines(log.lines), []);
  });

  it('beside them, a whole chunked POST and SDK v2 and 1.x clients are served and save their notes', async () => {
    const notes = countNotes(t.dataDir);
    const status = await chunkedPost(
      t.url,
      key,
      JSON.stringify(legacyToolCall('memory_save', { content: 'whole' })),
    );
    assert.equal(status, 200);
    await callWithBothSdks(t.url, key, [{ name: 'memory_save', arguments: { content: 'whole' } }]);
    assert.equal(countNotes(t.dataDir), notes + 3);
  });
});
