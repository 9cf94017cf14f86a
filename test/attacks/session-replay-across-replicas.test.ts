import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postMcp, type TestGateway } from '../helpers/gateway.js';
import { openSession, startReplicas, type Replicas } from '../helpers/replicas-in-process.js';

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

/**
 * Attack: a stolen 2025 session id replayed with another credential, on a replica that does not
 * hold the session (so the in-memory binding check of the replica that opened it is not in the
 * way). The replica that takes the session over from its shared record checks the binding the
 * same way: any other credential is told the session does not exist, on every replica.
 */
describe('attack: replaying a session id from another credential on another replica', () => {
  let set: Replicas;
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    set = await startReplicas(2);
    [a, b] = set.replicas as [TestGateway, TestGateway];
  });
  after(() => set.close());

  it('another credential gets 404 on the replica that never held the session, before and after the owner moved there', async () => {
    const alice = await a.key({ owner: 'alice' });
    const mallory = await b.key({ owner: 'mallory' });
    const sid = await openSession(a.url, alice.key);
    // First touch on B is the attacker's: B must not take the session over for him.
    const first = await postMcp(b.url, list, { key: mallory.key, headers: { 'mcp-session-id': sid } });
    assert.equal(first.status, 404);
    await first.text();
    // The owner moves to B; B now holds the session, and still refuses the attacker.
    const own = await postMcp(b.url, list, { key: alice.key, headers: { 'mcp-session-id': sid } });
    assert.equal(own.status, 200, 'B serves the session to its owner');
    await own.text();
    for (const r of [b, a]) {
      const res = await postMcp(r.url, list, { key: mallory.key, headers: { 'mcp-session-id': sid } });
      assert.equal(res.status, 404);
      await res.text();
      const stream = await fetch(r.url, {
        headers: {
          authorization: `Bearer ${mallory.key}`,
          'mcp-session-id': sid,
          accept: 'text/event-stream',
          'mcp-protocol-version': '2025-11-25',
        },
      });
      assert.equal(stream.status, 404, 'nor may the attacker listen on its stream');
      await stream.body?.cancel();
      const del = await fetch(r.url, {
        method: 'DELETE',
        headers: {
          authorization: `Bearer ${mallory.key}`,
          'mcp-session-id': sid,
          'mcp-protocol-version': '2025-11-25',
        },
      });
      assert.equal(del.status, 404, 'nor end it');
      await del.text();
    }
    const still = await postMcp(a.url, list, { key: alice.key, headers: { 'mcp-session-id': sid } });
    assert.equal(still.status, 200, 'the session survives the attempts');
    await still.text();
  });
});
