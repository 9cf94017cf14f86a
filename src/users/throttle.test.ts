import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLoginThrottle } from './throttle.js';

const policy = { maxFailuresPerAccount: 3, maxFailuresPerAddress: 5, windowMs: 60_000, lockoutMs: 300_000 };

describe('login throttle (frozen clock)', () => {
  it('locks an account after its limit of failures within the window, until the lockout ends', async () => {
    const th = createLoginThrottle(policy);
    for (let i = 0; i < 3; i++) await th.fail('alice', `10.0.0.${i}`, 1000 + i);
    const v = await th.check('alice', '10.0.0.9', 2000);
    assert.deepEqual(v, { allowed: false, reason: 'account-locked', retryAfterMs: 300_000 - 2000 + 1002 });
    assert.ok((await th.check('bob', '10.0.0.9', 2000)).allowed, 'other accounts are unaffected');
    assert.ok((await th.check('alice', '10.0.0.9', 1002 + 300_000)).allowed);
  });

  it('forgets failures older than the window', async () => {
    const th = createLoginThrottle(policy);
    await th.fail('alice', 'a', 0);
    await th.fail('alice', 'a', 1);
    await th.fail('alice', 'a', 70_000);
    assert.ok((await th.check('alice', 'a', 70_001)).allowed);
  });

  it('locks an address spraying many accounts', async () => {
    const th = createLoginThrottle(policy);
    for (let i = 0; i < 5; i++) await th.fail(`user${i}`, '10.0.0.1', i);
    assert.equal((await th.check('someone', '10.0.0.1', 10)).allowed, false);
    assert.ok((await th.check('someone', '10.0.0.2', 10)).allowed);
  });

  it('a success clears the account’s failures', async () => {
    const th = createLoginThrottle(policy);
    await th.fail('alice', 'a', 0);
    await th.fail('alice', 'a', 1);
    await th.succeed('alice');
    await th.fail('alice', 'a', 2);
    assert.ok((await th.check('alice', 'a', 3)).allowed);
  });

  it('a locked account stays locked while an attacker sprays other names to push it out', async () => {
    // Attack: lock-out evasion by eviction. Lock alice, then fail on ten thousand other names
    // from many addresses; a bounded map that dropped its oldest entry would forget the lock.
    const th = createLoginThrottle(policy);
    for (let i = 0; i < 3; i++) await th.fail('alice', '10.0.0.1', 1000 + i);
    for (let i = 0; i < 10_001; i++)
      await th.fail(`spray${i}`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 2000);
    assert.equal((await th.check('alice', '192.0.2.1', 3000)).allowed, false, 'the spray unlocked alice');
    const sprayed = await th.check('spray0', '192.0.2.1', 3000);
    assert.ok(sprayed.allowed, 'names with a single old failure are what the bound forgets');
  });

  it('attempts in flight count against the budget: concurrent guesses get the budget, not one try each', async () => {
    const th = createLoginThrottle(policy);
    const verdicts = [];
    for (let i = 0; i < 10; i++) verdicts.push(await th.check('alice', `10.0.1.${i}`, 1000));
    assert.equal(verdicts.filter((v) => v.allowed).length, 3);
    assert.deepEqual(verdicts[3], { allowed: false, reason: 'account-locked', retryAfterMs: 300_000 });
    // Settled as failures, they lock the account as before.
    for (let i = 0; i < 3; i++) await th.fail('alice', `10.0.1.${i}`, 1001);
    assert.equal((await th.check('alice', '10.0.1.9', 1002)).allowed, false);
    // An attempt never settled is let go after a minute (its request died in between).
    const other = createLoginThrottle(policy);
    for (let i = 0; i < 3; i++) await other.check('bob', `a${i}`, 0);
    assert.equal((await other.check('bob', 'b', 10)).allowed, false);
    assert.ok((await other.check('bob', 'b', 60_001)).allowed);
  });

  it('a success gives its attempt back', async () => {
    const th = createLoginThrottle(policy);
    for (let i = 0; i < 10; i++) {
      assert.ok((await th.check('alice', 'a', i)).allowed, `sign-in ${i + 1}`);
      await th.succeed('alice', 'a');
    }
  });
});
