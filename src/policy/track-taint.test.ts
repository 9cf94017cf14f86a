import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openMemoryStorage } from '../storage/index.js';
import { createTaintTracker, expiryOf } from './track-taint.js';

const T0 = 1_800_000_000_000;
const MIN = 60_000;
const tracker = () => createTaintTracker(openMemoryStorage().taint, { windowMs: 30 * MIN });

describe('taint tracking', () => {
  it('belongs to the person (the subject), whatever session, credential or tenant they use', async () => {
    const t = tracker();
    await t.record({ tenant: 't1', subject: 'alice' }, ['untrusted-source'], T0);
    // A principal of any credential of that person sees it: only the subject matters.
    const otherKey = { tenant: 't1', subject: 'alice', credentialId: 'k2', binding: 'api-key:k2' };
    assert.deepEqual([...(await t.seen(otherKey, T0))], ['untrusted-source']);
    assert.deepEqual([...(await t.seen({ tenant: 't1', subject: 'bob' }, T0))], []);
    // An API key carries its own tenant, a token the person's: the same person either way.
    assert.deepEqual([...(await t.seen({ tenant: 't2', subject: 'alice' }, T0))], ['untrusted-source']);
  });

  it('forgets a label after the window, and each new use restarts it', async () => {
    const t = tracker();
    const k = { tenant: 't', subject: 'p' };
    await t.record(k, ['untrusted-source'], T0);
    assert.equal((await t.seen(k, T0 + 30 * MIN - 1)).has('untrusted-source'), true);
    assert.equal((await t.seen(k, T0 + 30 * MIN)).has('untrusted-source'), false);
    await t.record(k, ['untrusted-source'], T0 + 20 * MIN);
    assert.equal((await t.seen(k, T0 + 45 * MIN)).has('untrusted-source'), true);
  });

  it('keeps a label at least its window, rounded up to a whole second, so calls of one second share one expiry', async () => {
    assert.equal(expiryOf(T0, 30 * MIN), T0 + 30 * MIN);
    assert.equal(expiryOf(T0 + 1, 30 * MIN), T0 + 1000 + 30 * MIN);
    assert.equal(expiryOf(T0 + 999, 30 * MIN), T0 + 1000 + 30 * MIN);
    const t = tracker();
    const k = { tenant: 't', subject: 'p' };
    await t.record(k, ['private-data'], T0 + 1);
    // Never shorter than the window: still there one millisecond before it ends.
    assert.equal((await t.seen(k, T0 + 1 + 30 * MIN - 1)).has('private-data'), true);
    assert.equal((await t.seen(k, T0 + 1000 + 30 * MIN)).has('private-data'), false);
  });
});
