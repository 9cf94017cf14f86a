import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { postMcp, type TestGateway } from '../helpers/gateway.js';
import { openSession, startReplicas, type Replicas } from '../helpers/replicas-in-process.js';

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const hashOf = (id: string) => createHash('sha256').update(id, 'utf8').digest('base64url');

/**
 * Attack: forged or damaged session records in Redis (another program writing under our prefix,
 * a partial write, a hand edit). Redis is trusted infrastructure, but what is read back is data:
 * every malformed record makes the session unknown (404, the client initialises again) on the
 * replica that reads it — never a crash, a 500, or a session with made-up contents.
 */
describe('attack: forged session records', () => {
  let set: Replicas;
  let a: TestGateway;
  let b: TestGateway;
  let key: string;
  before(async () => {
    set = await startReplicas(2);
    [a, b] = set.replicas as [TestGateway, TestGateway];
    key = (await a.key({ owner: 'alice' })).key;
  });
  after(() => set.close());

  const valid = (sid: string) => ({
    id: sid,
    binding: 'placeholder',
    protocolVersion: '2025-11-25',
    clientCapabilities: { elicitation: { form: {} } },
    clientInfo: { name: 'raw', version: '1' },
    subscriptions: [],
    createdAt: Date.now(),
    lastSeen: Date.now(),
  });

  const forgeries: Record<string, (sid: string, real: Record<string, unknown>) => string> = {
    'not JSON': () => '{"id": "unterminated',
    'JSON of the wrong type': () => '[1, 2, 3]',
    'a number where the binding goes': (_sid, real) => JSON.stringify({ ...real, binding: 42 }),
    'subscriptions that are not a list': (_sid, real) =>
      JSON.stringify({ ...real, subscriptions: 'file:///etc/passwd' }),
    'an unknown log level': (_sid, real) => JSON.stringify({ ...real, logLevel: 'verbose; drop table' }),
    'an extra key': (_sid, real) => JSON.stringify({ ...real, __proto__: null, isAdmin: true }),
    'another session’s record under this key': (_sid, real) =>
      JSON.stringify({ ...real, id: 'A'.repeat(43) }),
    'a record of several megabytes': (_sid, real) =>
      JSON.stringify({ ...real, clientInfo: { name: 'x'.repeat(4 << 20), version: '1' } }),
    'thousands of subscriptions': (_sid, real) =>
      JSON.stringify({ ...real, subscriptions: Array.from({ length: 5000 }, (_, i) => `memo://${i}`) }),
    'last seen before it was created': (_sid, real) =>
      JSON.stringify({ ...real, createdAt: Date.now(), lastSeen: Date.now() - 1000 }),
  };

  for (const [name, forge] of Object.entries(forgeries)) {
    it(`${name}: the session is unknown on the replica that reads it, and that replica keeps serving`, async () => {
      const sid = await openSession(a.url, key);
      const redis = a.gw.sharedState!.client;
      const recordKey = `${set.prefix}session:${hashOf(sid)}`;
      const stored = await redis.get(recordKey);
      assert.ok(stored, 'the record is in Redis');
      const real = { ...valid(sid), ...(JSON.parse(stored) as Record<string, unknown>) };
      await redis.set(recordKey, forge(sid, real), 'PX', 60_000);
      const res = await postMcp(b.url, list, { key, headers: { 'mcp-session-id': sid } });
      assert.equal(res.status, 404);
      await res.text();
      // B is fine: a session with a sound record still moves to it.
      const other = await openSession(a.url, key);
      const ok = await postMcp(b.url, list, { key, headers: { 'mcp-session-id': other } });
      assert.equal(ok.status, 200);
      await ok.text();
    });
  }
});
