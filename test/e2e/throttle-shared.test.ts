// Needs Redis at 127.0.0.1:6379; outages use a private redis-server of the test's own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, sharedStateFor, startPrivateRedis, testPrefix } from '../helpers/redis.js';
import { createSharedLoginThrottle } from '../../src/users/index.js';

const policy = { maxFailuresPerAccount: 4, maxFailuresPerAddress: 50, windowMs: 60_000, lockoutMs: 300_000 };

test('failures spread over two replicas lock the account at the limit, not at twice it', async (t) => {
  const prefix = testPrefix(t);
  const a = createSharedLoginThrottle(policy, await sharedStateFor(t, prefix), 'login');
  const b = createSharedLoginThrottle(policy, await sharedStateFor(t, prefix), 'login');
  const now = Date.now();
  await a.fail('alice', '192.0.2.1', now);
  await b.fail('alice', '192.0.2.2', now);
  await a.fail('alice', '192.0.2.3', now);
  assert.equal((await b.check('alice', '192.0.2.4', now)).allowed, true, 'three of four spent');
  await b.fail('alice', '192.0.2.4', now);
  for (const replica of [a, b]) {
    const verdict = await replica.check('alice', '198.51.100.7', now);
    assert.equal(verdict.allowed, false);
    assert.ok(!verdict.allowed && verdict.reason === 'account-locked');
    assert.ok(!verdict.allowed && verdict.retryAfterMs > 60_000, 'locked for the lockout, not the window');
  }
  assert.equal((await a.check('bob', '198.51.100.7', now)).allowed, true, 'other accounts are not locked');
});

test('a success on one replica clears the account’s shared failures', async (t) => {
  const prefix = testPrefix(t);
  const a = createSharedLoginThrottle(policy, await sharedStateFor(t, prefix), 'login');
  const b = createSharedLoginThrottle(policy, await sharedStateFor(t, prefix), 'login');
  const now = Date.now();
  for (let i = 0; i < 3; i++) await a.fail('alice', '192.0.2.1', now);
  await b.succeed('alice');
  await a.succeed('alice');
  await b.fail('alice', '192.0.2.1', now);
  assert.equal((await a.check('alice', '192.0.2.1', now)).allowed, true);
});

test('the keys hold no account name, and expire', async (t) => {
  const prefix = testPrefix(t);
  const shared = await sharedStateFor(t, prefix);
  const th = createSharedLoginThrottle(policy, shared, 'login');
  await th.fail('alice@example.com', '192.0.2.1', Date.now());
  const keys = await shared.client.keys(`${prefix}*`);
  assert.equal(keys.length, 2);
  assert.ok(keys.every((k) => !k.includes('alice')));
  assert.ok(keys.some((k) => k === `${prefix}throttle:login:address:192.0.2.1`));
  for (const k of keys) assert.ok((await shared.client.pttl(k)) > 0, `${k} has a TTL`);
});

test('with Redis killed, each replica still limits on its own count, and sharing resumes after', async (t) => {
  const redis = await startPrivateRedis(t);
  const prefix = testPrefix(t, redis.url);
  const sharedA = await sharedStateFor(t, prefix, redis.url);
  const a = createSharedLoginThrottle(policy, sharedA, 'login');
  const b = createSharedLoginThrottle(policy, await sharedStateFor(t, prefix, redis.url), 'login');
  await redis.kill();
  const now = Date.now();
  // Replica A alone: four failures it saw lock the account on A, with Redis gone.
  for (let i = 0; i < 4; i++) await a.fail('alice', '192.0.2.1', now + i);
  assert.equal((await a.check('alice', '192.0.2.1', now + 10)).allowed, false, 'never unlimited');
  // B saw none of them: per-replica counting is the documented degradation.
  assert.equal((await b.check('alice', '192.0.2.1', now + 10)).allowed, true);
  await redis.restart();
  await eventually(() => sharedA.ping(), 5000, 'redis back');
  for (let i = 0; i < 2; i++) await a.fail('carol', '192.0.2.9', Date.now());
  for (let i = 0; i < 2; i++) await b.fail('carol', '192.0.2.9', Date.now());
  assert.equal((await b.check('carol', '192.0.2.9', Date.now())).allowed, false, 'shared again');
});
