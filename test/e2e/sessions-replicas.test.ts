import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postMcp, readRpc, type TestGateway } from '../helpers/gateway.js';
import { eventually } from '../helpers/redis.js';
import { openSession, startReplicas, type Replicas } from '../helpers/replicas.js';

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
