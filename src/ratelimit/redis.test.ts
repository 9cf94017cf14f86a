// Needs Redis at 127.0.0.1:6379 (it runs in CI). Every test uses its own key prefix and deletes
// its keys afterwards.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { rateLimitConfigSchema } from './config.js';
import { createLimiter } from './limiter.js';
import { createRateLimits } from './tiers.js';

async function connect(t: TestContext) {
  const client = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1, lazyConnect: true });
  await client.connect();
  const keyPrefix = `portcullis-test:${randomUUID()}`;
  t.after(async () => {
    const keys = await client.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });
  return { client, keyPrefix };
}

test('against Redis, the 61st call in a minute is refused and the count lives in Redis', async (t) => {
  const { client, keyPrefix } = await connect(t);
  const limiter = createLimiter(
    { kind: 'redis', client, keyPrefix },
    { name: 'credential', points: 60, windowSeconds: 60 },
  );
  for (let i = 0; i < 60; i++) assert.equal((await limiter.consume('key-1')).allowed, true);
  const refused = await limiter.consume('key-1');
  assert.equal(refused.allowed, false);
  assert.ok(!refused.allowed && refused.retryAfterSeconds >= 1);
  assert.equal((await client.keys(`${keyPrefix}:credential*`)).length, 1);
});

test('against Redis, two gateway replicas share one count', async (t) => {
  const { client, keyPrefix } = await connect(t);
  const cfg = rateLimitConfigSchema.parse({
    credential: { points: 4, windowSeconds: 60, burst: 0, burstWindowSeconds: 60 },
  });
  const replicaA = createRateLimits(cfg, { kind: 'redis', client, keyPrefix });
  const replicaB = createRateLimits(cfg, { kind: 'redis', client, keyPrefix });
  for (let i = 0; i < 2; i++) {
    const a = await replicaA.checkToolCall({ caller: 'k', tool: 't' });
    const b = await replicaB.checkToolCall({ caller: 'k', tool: 't' });
    if (a.allowed) a.release();
    if (b.allowed) b.release();
  }
  const fifth = await replicaA.checkToolCall({ caller: 'k', tool: 't' });
  assert.ok(!fifth.allowed && fifth.tier === 'credential');
});

test('against Redis, refunds give points back in Redis', async (t) => {
  const { client, keyPrefix } = await connect(t);
  const limiter = createLimiter(
    { kind: 'redis', client, keyPrefix },
    { name: 'tool', points: 2, windowSeconds: 60 },
  );
  await limiter.consume('k');
  await limiter.consume('k');
  await limiter.refund('k');
  assert.equal((await limiter.consume('k')).allowed, true);
  assert.equal((await limiter.consume('k')).allowed, false);
});

test('when Redis is unreachable the limits still hold, per replica, instead of failing open', async () => {
  // Port 1 on loopback: nothing listens, so the client is never ready.
  const client = new Redis({
    host: '127.0.0.1',
    port: 1,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    const limiter = createLimiter(
      { kind: 'redis', client, keyPrefix: 'unreachable' },
      { name: 'credential', points: 3, windowSeconds: 60 },
    );
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await limiter.consume('k')).allowed);
    assert.deepEqual(results, [true, true, true, false]);
  } finally {
    client.disconnect();
  }
});
