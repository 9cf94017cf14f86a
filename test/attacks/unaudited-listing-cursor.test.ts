// Attack: send data to an upstream while the audit log cannot commit, through resources/list.
// The cursor of a listing is the caller's to choose (base64url JSON naming the upstream and that
// upstream's own cursor), and the gateway hands the inner cursor to the upstream's
// resources/list. The listing's only record was committed after the upstream answered, so while
// the audit store refused writes a caller still delivered any string it liked (up to ~3 KB per
// request) to the upstream, and the audit log held nothing of it: the class of the web_fetch
// hole (unaudited-read-egress.test.ts) through a request that is not a tool call.
// Seen failing: with the audit database locked by another writer, the upstream received the
// cursor `leak-alice-salary-93000` and no surface-list record of it exists.
//
// Fixed: a listing that relays a caller's cursor commits its record (outcome `pending`, reason
// `input-relayed`) before the upstream request (mcp/stages/list-surface.ts); while that commit
// fails the cursor stays in the gateway and the caller gets an error.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { auditTip, legacyToolCall, recordsAfter } from '../helpers/audit-records.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

const SERVER = path.resolve(import.meta.dirname, '../fixtures/cursor-recording-server.js');

const rpc = (t: TestGateway, key: string, method: string, params: unknown = {}) =>
  postMcp(t.url, { jsonrpc: '2.0', id: 1, method, params }, { key }).then(readRpc);

/** What the upstream says it received, asked once the audit log is healthy again. */
async function seenCursors(t: TestGateway, key: string): Promise<string[]> {
  const res = await postMcp(t.url, legacyToolCall('cur__seen_cursors', {}), { key });
  const answer = await readRpc(res);
  return JSON.parse(answer.result.content[0].text) as string[];
}

describe('attack: a resources/list cursor reaches the upstream while the audit log cannot commit', () => {
  let t: TestGateway;
  let key: string;

  before(async () => {
    t = await startTestGateway({
      config: upstreamsConfig([
        {
          name: 'cur',
          stdio: { command: NODE, args: [SERVER] },
          pinning: 'trust-on-first-use',
          tools: { '*': { class: 'read' } },
        },
      ]),
    });
    key = (await t.key({ scopes: ['cur:resources', 'cur:read'] })).key;
    await eventually(async () => {
      const r = await rpc(t, key, 'resources/list');
      return r.result?.resources?.length > 0 ? true : undefined;
    }, 'the cur upstream');
  });
  after(async () => t?.close());

  it('no caller-chosen cursor reaches the upstream without its record', async () => {
    const secret = 'leak-alice-salary-93000';
    const cursor = Buffer.from(JSON.stringify({ u: 'cur', c: secret })).toString('base64url');
    const tip = await auditTip(t);
    const lock = new Database(path.join(t.dataDir, 'audit.db'));
    lock.pragma('busy_timeout = 0');
    lock.exec('BEGIN IMMEDIATE');
    let answer;
    try {
      answer = await rpc(t, key, 'resources/list', { cursor });
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    assert.ok(answer.error, `a listing while the audit log cannot commit fails: ${JSON.stringify(answer)}`);
    const leaked = (await seenCursors(t, key)).filter((c) => c === secret);
    const records = await recordsAfter(t, tip, 'surface-list');
    assert.ok(
      leaked.length === 0 || records.length > 0,
      `the upstream received ${JSON.stringify(leaked)}; surface-list records: ${records.length}`,
    );
  });

  it('the legitimate use beside it: with the audit log healthy both pages list and are recorded', async () => {
    const tip = await auditTip(t);
    const first = await rpc(t, key, 'resources/list');
    assert.deepEqual(
      first.result.resources.map((r: { name: string }) => r.name),
      ['one.txt'],
    );
    const second = await rpc(t, key, 'resources/list', { cursor: first.result.nextCursor });
    assert.deepEqual(
      second.result.resources.map((r: { name: string }) => r.name),
      ['two.txt'],
    );
    assert.ok((await seenCursors(t, key)).includes('page-2'));
    const records = await recordsAfter(t, tip, 'surface-list');
    // Each page has its record; the relayed cursor's was committed before the upstream saw it.
    assert.equal(records.filter((r) => r.outcome === 'ok').length, 2, JSON.stringify(records));
    const relayed = records.filter((r) => r.outcome === 'pending');
    assert.equal(relayed.length, 1, JSON.stringify(records));
    assert.deepEqual(relayed[0]!.reasons, ['input-relayed']);
  });
});
