import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rateLimitConfigSchema, type RateLimitConfig } from './config.js';
import { createRateLimits, type ToolCallRateDecision } from './tiers.js';

const memory = { kind: 'memory' } as const;

function config(overrides: Record<string, unknown> = {}): RateLimitConfig {
  return rateLimitConfigSchema.parse(overrides);
}

async function calls(n: number, fn: () => Promise<ToolCallRateDecision>): Promise<ToolCallRateDecision[]> {
  const out: ToolCallRateDecision[] = [];
  for (let i = 0; i < n; i++) {
    const decision = await fn();
    if (decision.allowed) decision.release();
    out.push(decision);
  }
  return out;
}

test('under the defaults the 61st call in a minute from one credential is refused with a retry time', async () => {
  const limits = createRateLimits(config(), memory);
  const results = await calls(61, () => limits.checkToolCall({ caller: 'key-1', tool: 'notes__search' }));
  assert.ok(results.slice(0, 60).every((r) => r.allowed));
  const last = results[60];
  assert.ok(last && !last.allowed);
  assert.equal(last.tier, 'credential');
  assert.equal(last.reason, 'rate-limit-credential');
  assert.ok(last.retryAfterSeconds >= 1 && last.retryAfterSeconds <= 60);
});

test('a configured burst admits that many calls beyond the per-minute limit, then refuses', async () => {
  const limits = createRateLimits(
    config({ credential: { points: 60, windowSeconds: 60, burst: 10, burstWindowSeconds: 600 } }),
    memory,
  );
  const results = await calls(71, () => limits.checkToolCall({ caller: 'key-1', tool: 'notes__search' }));
  assert.equal(results.filter((r) => r.allowed).length, 70);
  const last = results[70];
  assert.ok(last && !last.allowed && last.tier === 'credential');
});

test('limits are per credential: one exhausted key does not affect another', async () => {
  const limits = createRateLimits(
    config({ credential: { points: 5, windowSeconds: 60, burst: 0, burstWindowSeconds: 60 } }),
    memory,
  );
  await calls(5, () => limits.checkToolCall({ caller: 'key-a', tool: 't' }));
  assert.equal((await limits.checkToolCall({ caller: 'key-a', tool: 't' })).allowed, false);
  assert.equal((await limits.checkToolCall({ caller: 'key-b', tool: 't' })).allowed, true);
});

test('a stricter per-tool limit refuses first and does not charge the credential tier', async () => {
  const limits = createRateLimits(
    config({
      credential: { points: 10, windowSeconds: 60, burst: 0, burstWindowSeconds: 60 },
      tools: { 'web__*': { points: 2, windowSeconds: 60 } },
    }),
    memory,
  );
  const fetches = await calls(5, () => limits.checkToolCall({ caller: 'k', tool: 'web__fetch' }));
  assert.deepEqual(
    fetches.map((r) => r.allowed),
    [true, true, false, false, false],
  );
  const refused = fetches[2];
  assert.ok(refused && !refused.allowed && refused.tier === 'tool' && refused.reason === 'rate-limit-tool');
  // 2 charged by the allowed fetches; the 3 refused ones were refunded: 8 left for other tools.
  const others = await calls(9, () => limits.checkToolCall({ caller: 'k', tool: 'notes__search' }));
  assert.equal(others.filter((r) => r.allowed).length, 8);
});

test('the per-session limit applies to calls in the same session only', async () => {
  const limits = createRateLimits(config({ session: { points: 3, windowSeconds: 60 } }), memory);
  const inSession = await calls(4, () => limits.checkToolCall({ caller: 'k', sessionId: 's1', tool: 't' }));
  const last = inSession[3];
  assert.ok(last && !last.allowed && last.tier === 'session');
  assert.equal((await limits.checkToolCall({ caller: 'k', sessionId: 's2', tool: 't' })).allowed, true);
});

test('the per-upstream limit is kept per credential and can be overridden per upstream', async () => {
  const limits = createRateLimits(
    config({
      upstream: { points: 100, windowSeconds: 60 },
      upstreams: { github: { points: 2, windowSeconds: 60 } },
    }),
    memory,
  );
  const gh = await calls(3, () =>
    limits.checkToolCall({ caller: 'k', tool: 'github__x', upstream: 'github' }),
  );
  const last = gh[2];
  assert.ok(last && !last.allowed && last.tier === 'upstream' && last.limit === 2);
  assert.equal(
    (await limits.checkToolCall({ caller: 'other', tool: 'github__x', upstream: 'github' })).allowed,
    true,
  );
  assert.equal(
    (await limits.checkToolCall({ caller: 'k', tool: 'jira__x', upstream: 'jira' })).allowed,
    true,
  );
});

test('the daily quota refuses once spent', async () => {
  const limits = createRateLimits(config({ dailyQuota: { points: 3 } }), memory);
  const results = await calls(4, () => limits.checkToolCall({ caller: 'k', tool: 't' }));
  const last = results[3];
  assert.ok(last && !last.allowed && last.tier === 'daily-quota' && last.reason === 'rate-limit-daily-quota');
  assert.equal(last.windowSeconds, 86_400);
});

test('the concurrency cap refuses a call while the limit is in flight and frees the slot on release', async () => {
  const limits = createRateLimits(config({ concurrency: { maxInFlight: 2 } }), memory);
  const a = await limits.checkToolCall({ caller: 'k', tool: 't' });
  const b = await limits.checkToolCall({ caller: 'k', tool: 't' });
  const c = await limits.checkToolCall({ caller: 'k', tool: 't' });
  assert.ok(a.allowed && b.allowed);
  assert.ok(!c.allowed && c.tier === 'concurrency' && c.reason === 'rate-limit-concurrency');
  a.release();
  a.release(); // idempotent
  const d = await limits.checkToolCall({ caller: 'k', tool: 't' });
  assert.ok(d.allowed);
  const e = await limits.checkToolCall({ caller: 'k', tool: 't' });
  assert.equal(e.allowed, false);
});

test('failed authentications per address are limited and then block the address', async () => {
  const limits = createRateLimits(
    config({ failedAuth: { points: 3, windowSeconds: 60, blockSeconds: 300 } }),
    memory,
  );
  assert.equal(await limits.checkAuthAllowed('203.0.113.9'), undefined);
  for (let i = 0; i < 3; i++) assert.equal(await limits.recordFailedAuth('203.0.113.9'), undefined);
  const refused = await limits.recordFailedAuth('203.0.113.9');
  assert.equal(refused?.reason, 'rate-limit-failed-auth');
  assert.ok((refused?.retryAfterSeconds ?? 0) > 60, 'blocked for longer than the window');
  assert.equal((await limits.checkAuthAllowed('203.0.113.9'))?.tier, 'failed-auth');
  assert.equal(await limits.checkAuthAllowed('198.51.100.1'), undefined);
});

test('OAuth endpoint requests are limited per address', async () => {
  const limits = createRateLimits(config({ oauth: { points: 2, windowSeconds: 60 } }), memory);
  assert.equal(await limits.checkOAuth('192.0.2.1'), undefined);
  assert.equal(await limits.checkOAuth('192.0.2.1'), undefined);
  assert.equal((await limits.checkOAuth('192.0.2.1'))?.reason, 'rate-limit-oauth');
});

test('client registrations are limited per address, apart from the OAuth limit', async () => {
  const limits = createRateLimits(config({ registration: { points: 1, windowSeconds: 3600 } }), memory);
  assert.equal(await limits.checkRegistration('192.0.2.1'), undefined);
  const refused = await limits.checkRegistration('192.0.2.1');
  assert.equal(refused?.reason, 'rate-limit-registration');
  assert.ok((refused?.retryAfterSeconds ?? 0) > 60);
  assert.equal(await limits.checkRegistration('192.0.2.2'), undefined);
  assert.equal(await limits.checkOAuth('192.0.2.1'), undefined);
});

test('an allowed call reports its usage of each tier for the RateLimit headers', async () => {
  const limits = createRateLimits(config(), memory);
  const decision = await limits.checkToolCall({ caller: 'k', tool: 't' });
  assert.ok(decision.allowed);
  assert.deepEqual(
    decision.usage.map((u) => [u.tier, u.limit, u.remaining]),
    [
      ['credential', 60, 59],
      ['daily-quota', 10_000, 9_999],
    ],
  );
  decision.release();
});

test('the configuration schema fills every default and rejects unknown keys', () => {
  const parsed = config();
  assert.deepEqual(parsed.credential, { points: 60, windowSeconds: 60, burst: 0, burstWindowSeconds: 600 });
  assert.equal(parsed.dailyQuota.points, 10_000);
  assert.equal(parsed.concurrency.maxInFlight, 8);
  assert.throws(() => rateLimitConfigSchema.parse({ credentail: {} }));
  assert.throws(() => rateLimitConfigSchema.parse({ session: { points: 0, windowSeconds: 60 } }));
});
