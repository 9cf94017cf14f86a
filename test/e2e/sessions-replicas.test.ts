import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postMcp, readRpc, type TestGateway } from '../helpers/gateway.js';
import { eventually, startPrivateRedis } from '../helpers/redis.js';
import { openSession, startReplicas, type Replicas } from '../helpers/replicas-in-process.js';

const initialize = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: { elicitation: { form: {} } },
    clientInfo: { name: 'raw', version: '1' },
  },
};

const onSession = (url: string, key: string, sid: string, body: unknown) =>
  postMcp(url, body, { key, headers: { 'mcp-session-id': sid } });

/**
 * 2025 stateful sessions across replicas: the record is in Redis, so a session opened on one
 * replica is served by any other (rebuilt from the record), bound to the same credential.
 */
describe('2025 sessions across replicas', () => {
  let set: Replicas;
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    set = await startReplicas(2, {
      env: { PORTCULLIS_SESSIONS__MAX_PER_PRINCIPAL: '2', PORTCULLIS_SESSIONS__MAX_TOTAL: '6' },
    });
    [a, b] = set.replicas as [TestGateway, TestGateway];
  });
  after(() => set.close());

  it('a session opened on A lists and calls tools on B, and what B did is seen on A', async () => {
    const { key } = await a.key({ owner: 'alice' });
    const sid = await openSession(a.url, key);
    assert.equal(b.gw.sharedState !== undefined, true);
    const listed = await onSession(b.url, key, sid, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(listed.status, 200);
    assert.ok((await readRpc(listed)).result.tools.some((t: { name: string }) => t.name === 'memory_save'));
    const saved = await onSession(b.url, key, sid, {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'memory_save', arguments: { content: 'saved through replica B' } },
    });
    assert.equal(saved.status, 200);
    const result = (await readRpc(saved)).result;
    assert.equal(result.isError, undefined, JSON.stringify(result));
    const id = result.structuredContent.id as string;
    const got = await onSession(a.url, key, sid, {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'memory_get', arguments: { id } },
    });
    assert.equal(got.status, 200);
    assert.match(JSON.stringify((await readRpc(got)).result), /saved through replica B/);
  });

  it('the log level set on one replica holds on the other', async () => {
    const { key } = await a.key({ owner: 'frank' });
    const sid = await openSession(a.url, key);
    const set1 = await onSession(a.url, key, sid, {
      jsonrpc: '2.0',
      id: 1,
      method: 'logging/setLevel',
      params: { level: 'error' },
    });
    assert.equal(set1.status, 200);
    await set1.text();
    const shared = b.gw.sharedState!;
    await eventually(
      async () => {
        const keys = await shared.client.keys(`${set.prefix}session:*`);
        const values = await Promise.all(keys.map((k) => shared.client.get(k)));
        return values.some((v) => v?.includes('"logLevel":"error"') && v.includes(sid));
      },
      3000,
      'the level in the record',
    );
    const listed = await onSession(b.url, key, sid, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.equal(listed.status, 200);
  });

  it('another credential presenting the session id on B gets 404, and the owner still gets in', async () => {
    const alice = await a.key({ owner: 'alice' });
    const mallory = await b.key({ owner: 'mallory' });
    const sid = await openSession(a.url, alice.key);
    const stolen = await onSession(b.url, mallory.key, sid, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(stolen.status, 404);
    await stolen.text();
    const own = await onSession(b.url, alice.key, sid, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(own.status, 200);
    await own.text();
  });

  it('DELETE on B ends the session on A as well', async () => {
    const { key } = await a.key({ owner: 'carol' });
    const sid = await openSession(a.url, key);
    const del = await fetch(b.url, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${key}`,
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
    });
    assert.equal(del.status, 200);
    await del.text();
    await eventually(
      async () => {
        const res = await onSession(a.url, key, sid, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
        await res.text();
        return res.status === 404;
      },
      3000,
      'A to let go of the session',
    );
    assert.equal(
      a.gw.sharedState !== undefined &&
        [...(await a.gw.sharedState.client.keys(`${set.prefix}session:*`))].length >= 0,
      true,
    );
  });

  it('the per-credential cap counts sessions on every replica', async () => {
    const { key } = await a.key({ owner: 'erin' });
    const first = await openSession(a.url, key);
    await openSession(b.url, key);
    await openSession(a.url, key);
    for (const r of [a, b]) {
      await eventually(
        async () => {
          const res = await onSession(r.url, key, first, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
          await res.text();
          return res.status === 404;
        },
        3000,
        'the oldest session to be closed everywhere',
      );
    }
  });
});

describe('2025 sessions when Redis goes down', () => {
  it('a session keeps working on its replica, is a prompt 404 elsewhere, and new ones open; sharing resumes after', async (t) => {
    const redis = await startPrivateRedis(t);
    const set = await startReplicas(2, { redisUrl: redis.url });
    t.after(() => set.close());
    const [a, b] = set.replicas as [TestGateway, TestGateway];
    const { key } = await a.key({ owner: 'gina' });
    const sid = await openSession(a.url, key);
    await redis.kill();
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const onA = await onSession(a.url, key, sid, list);
    assert.equal(onA.status, 200, 'the holder keeps serving it');
    await onA.text();
    const started = Date.now();
    const onB = await onSession(b.url, key, sid, list);
    assert.equal(onB.status, 404, 'elsewhere it is unknown: the client initialises again');
    await onB.text();
    assert.ok(Date.now() - started < 3000, 'answered promptly, not after a hang');
    const fresh = await openSession(a.url, key);
    const onFresh = await onSession(a.url, key, fresh, list);
    assert.equal(onFresh.status, 200, 'new sessions open on the replica, held locally');
    await onFresh.text();
    await redis.restart();
    await eventually(() => a.gw.sharedState!.ping(), 10_000, 'redis back');
    await eventually(() => a.gw.sharedState!.subscriptionFresh(), 10_000, 'A resubscribed');
    const again = await openSession(a.url, key);
    const moved = await onSession(b.url, key, again, list);
    assert.equal(moved.status, 200, 'a session opened after the outage moves again');
    await moved.text();
  });
});

describe('the total session cap across replicas', () => {
  it('counts every replica’s sessions: the third of two allowed is refused with 503 wherever it is opened', async (t) => {
    const set = await startReplicas(2, { env: { PORTCULLIS_SESSIONS__MAX_TOTAL: '2' } });
    t.after(() => set.close());
    const [a, b] = set.replicas as [TestGateway, TestGateway];
    const keys = await Promise.all([1, 2, 3].map((i) => a.key({ owner: `total${i}` })));
    await openSession(a.url, keys[0]!.key);
    await openSession(b.url, keys[1]!.key);
    for (const r of [a, b]) {
      const res = await postMcp(r.url, initialize, { key: keys[2]!.key });
      assert.equal(res.status, 503);
      await res.text();
    }
  });
});
