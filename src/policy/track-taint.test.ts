import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryTaintTracker } from './track-taint.js';

const T0 = 1_800_000_000_000;
const MIN = 60_000;

describe('taint tracking', () => {
  it('remembers labels per session and per credential, never across them', async () => {
    const t = createMemoryTaintTracker({ windowMs: 30 * MIN, sessionTtlMs: 60 * MIN });
    await t.record({ session: 's1' }, ['untrusted-source'], T0);
    await t.record({ binding: 'api-key:k1' }, ['private-data'], T0);
    assert.deepEqual([...(await t.seen({ session: 's1' }, T0))], ['untrusted-source']);
    assert.deepEqual([...(await t.seen({ binding: 'api-key:k1' }, T0))], ['private-data']);
    assert.deepEqual([...(await t.seen({ session: 's2' }, T0))], []);
    assert.deepEqual([...(await t.seen({ binding: 'api-key:k2' }, T0))], []);
    // A session id and a binding that happen to be the same string are different keys.
    await t.record({ session: 'same' }, ['untrusted-source'], T0);
    assert.deepEqual([...(await t.seen({ binding: 'same' }, T0))], []);
  });

  it('forgets a credential’s label after the window, and each new use restarts it', async () => {
    const t = createMemoryTaintTracker({ windowMs: 30 * MIN, sessionTtlMs: 60 * MIN });
    const k = { binding: 'b' };
    await t.record(k, ['untrusted-source'], T0);
    assert.equal((await t.seen(k, T0 + 30 * MIN)).has('untrusted-source'), true);
    assert.equal((await t.seen(k, T0 + 30 * MIN + 1)).has('untrusted-source'), false);
    await t.record(k, ['untrusted-source'], T0 + 20 * MIN);
    assert.equal((await t.seen(k, T0 + 45 * MIN)).has('untrusted-source'), true);
  });

  it('keeps a session’s labels for the session’s idle lifetime', async () => {
    const t = createMemoryTaintTracker({ windowMs: MIN, sessionTtlMs: 60 * MIN });
    await t.record({ session: 's' }, ['private-data'], T0);
    assert.equal((await t.seen({ session: 's' }, T0 + 59 * MIN)).has('private-data'), true);
  });
});
