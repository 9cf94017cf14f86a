// Attack: open many 2025 stateful sessions at the same moment, spread over the replicas, to get
// past `sessions.maxPerPrincipal` and `sessions.maxTotal`. Each replica read the shared count,
// compared it with the cap and only then added its session, so every open that read before the
// others wrote was let through. Seen failing before the fix (2 replicas in one process, one
// Redis): with maxTotal 6, 24 concurrent opens by 24 credentials gave 24 sessions; with
// maxPerPrincipal 2, 12 concurrent opens by one key left 12 live sessions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postMcp, type TestGateway } from '../helpers/gateway.js';
import {
  openSession,
  startReplicas,
  STATEFUL_INITIALIZE,
  type Replicas,
} from '../helpers/replicas-in-process.js';

const MAX_TOTAL = 6;
const MAX_PER_PRINCIPAL = 2;
const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

/** An initialize on `url`; the session id when a session was opened, else the status. */
async function initialize(url: string, key: string): Promise<string | number> {
  const res = await postMcp(url, STATEFUL_INITIALIZE, { key });
  await res.text();
  const id = res.headers.get('mcp-session-id');
  return res.status === 200 && id ? id : res.status;
}

/** Whether the session still answers (on the replica asked, held there or taken over). */
async function alive(url: string, key: string, sid: string): Promise<boolean> {
  const res = await postMcp(url, list, { key, headers: { 'mcp-session-id': sid } });
  await res.text();
  return res.status === 200;
}

async function end(url: string, key: string, sid: string): Promise<void> {
  const res = await fetch(url, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${key}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
  });
  await res.text();
}

describe('attack: concurrent session opens across replicas overshoot the caps', () => {
  let set: Replicas;
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    set = await startReplicas(2, {
      env: {
        PORTCULLIS_SESSIONS__MAX_TOTAL: String(MAX_TOTAL),
        PORTCULLIS_SESSIONS__MAX_PER_PRINCIPAL: String(MAX_PER_PRINCIPAL),
      },
    });
    [a, b] = set.replicas as [TestGateway, TestGateway];
  });
  after(() => set.close());

  it('24 opens at once by 24 credentials over two replicas get at most maxTotal sessions', async () => {
    const keys = await Promise.all(Array.from({ length: 24 }, (_, i) => a.key({ owner: `p${i}` })));
    const results = await Promise.all(keys.map((k, i) => initialize((i % 2 ? b : a).url, k.key)));
    const opened = results.filter((r): r is string => typeof r === 'string');
    assert.ok(opened.length <= MAX_TOTAL, `${opened.length} sessions opened with maxTotal ${MAX_TOTAL}`);
    assert.ok(
      results.every((r) => typeof r === 'string' || r === 503),
      `refused opens are 503: ${JSON.stringify(results.filter((r) => typeof r === 'number'))}`,
    );
    // The legitimate use beside it: the caps let maxTotal sessions open, and a freed slot is
    // usable again by anyone.
    assert.equal(opened.length, MAX_TOTAL, 'every slot is usable');
    for (const [i, r] of results.entries())
      if (typeof r === 'string') await end((i % 2 ? b : a).url, keys[i]!.key, r);
    const again = await initialize(b.url, keys[0]!.key);
    assert.equal(typeof again, 'string', 'a slot freed by DELETE is open again');
    await end(b.url, keys[0]!.key, again as string);
  });

  it('12 opens at once by one credential over two replicas leave at most maxPerPrincipal live sessions', async () => {
    const k = await a.key({ owner: 'looper' });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => initialize((i % 2 ? b : a).url, k.key)),
    );
    const opened = results.filter((r): r is string => typeof r === 'string');
    // The holders are told over pub/sub to let go of what the cap ended.
    await new Promise((r) => setTimeout(r, 300));
    let live = 0;
    for (const sid of opened) if (await alive(a.url, k.key, sid)) live++;
    assert.ok(live <= MAX_PER_PRINCIPAL, `${live} live sessions with maxPerPrincipal ${MAX_PER_PRINCIPAL}`);
    // The legitimate use beside it: a client reconnecting is never locked out; its newest
    // session works on either replica.
    const newest = await openSession(b.url, k.key);
    assert.ok(await alive(a.url, k.key, newest));
    assert.ok(await alive(b.url, k.key, newest));
  });
});
