import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { openSession, STATEFUL_INITIALIZE } from '../helpers/replicas-in-process.js';

const initialize = STATEFUL_INITIALIZE;

describe('stateful sessions for 2025 clients', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({
      env: { PORTCULLIS_SESSIONS__MAX_PER_PRINCIPAL: '2', PORTCULLIS_SESSIONS__MAX_TOTAL: '50' },
    });
  });
  after(() => t.close());

  it('a session id presented with another credential is rejected, and still works for its owner', async () => {
    const a = await t.key({ owner: 'alice' });
    const b = await t.key({ owner: 'bob' });
    const sid = await openSession(t.url, a.key);
    const stolen = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { key: b.key, headers: { 'mcp-session-id': sid } },
    );
    assert.equal(stolen.status, 404);
    const own = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { key: a.key, headers: { 'mcp-session-id': sid } },
    );
    assert.equal(own.status, 200);
    assert.ok((await readRpc(own)).result.tools.length > 0);
  });

  it('a session id without a credential is 401, not a pass', async () => {
    const a = await t.key({ owner: 'dave' });
    const sid = await openSession(t.url, a.key);
    const res = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { headers: { 'mcp-session-id': sid } },
    );
    assert.equal(res.status, 401);
  });

  it('an unknown session id is 404', async () => {
    const a = await t.key();
    const res = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { key: a.key, headers: { 'mcp-session-id': 'x'.repeat(43) } },
    );
    assert.equal(res.status, 404);
  });

  it('over the per-credential cap the least recently used session of that credential is closed', async () => {
    const a = await t.key({ owner: 'erin' });
    const first = await openSession(t.url, a.key);
    await openSession(t.url, a.key);
    await openSession(t.url, a.key);
    const res = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { key: a.key, headers: { 'mcp-session-id': first } },
    );
    assert.equal(res.status, 404);
  });
});

describe('the total session cap', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ env: { PORTCULLIS_SESSIONS__MAX_TOTAL: '2' } });
  });
  after(() => t.close());

  it('over the total cap new sessions are refused with 503, and stateless clients are still served', async () => {
    const keys = await Promise.all([1, 2, 3].map((i) => t.key({ owner: `cap${i}` })));
    const statuses: number[] = [];
    for (const k of keys) {
      const res = await postMcp(t.url, initialize, { key: k.key });
      await res.text();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [200, 200, 503]);
    const stateless = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { key: keys[2]!.key },
    );
    assert.equal(stateless.status, 200);
  });
});
