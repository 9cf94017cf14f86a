import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rateLimitHeaders, refusalHeaders, refusalMessage } from './headers.js';
import type { RateLimitRefusal } from './tiers.js';

const refusal: RateLimitRefusal = {
  allowed: false,
  tier: 'credential',
  reason: 'rate-limit-credential',
  retryAfterSeconds: 12,
  limit: 60,
  windowSeconds: 60,
  resetMs: 11_200,
};

test('a refusal carries Retry-After and the structured RateLimit fields', () => {
  assert.deepEqual(refusalHeaders(refusal), {
    'Retry-After': '12',
    RateLimit: '"credential";r=0;t=12',
    'RateLimit-Policy': '"credential";q=60;w=60',
  });
});

test('a concurrency refusal advertises no quota policy', () => {
  const headers = refusalHeaders({
    ...refusal,
    tier: 'concurrency',
    reason: 'rate-limit-concurrency',
    windowSeconds: 0,
    retryAfterSeconds: 1,
  });
  assert.equal(headers['RateLimit-Policy'], undefined);
  assert.equal(headers.RateLimit, '"concurrency";r=0;t=1');
});

test('allowed calls list every policy they were counted against', () => {
  assert.deepEqual(
    rateLimitHeaders([
      { tier: 'credential', limit: 60, windowSeconds: 60, remaining: 42, resetMs: 30_001 },
      { tier: 'daily-quota', limit: 10_000, windowSeconds: 86_400, remaining: 9_000, resetMs: 3_600_000 },
    ]),
    {
      'RateLimit-Policy': '"credential";q=60;w=60, "daily-quota";q=10000;w=86400',
      RateLimit: '"credential";r=42;t=31, "daily-quota";r=9000;t=3600',
    },
  );
  assert.deepEqual(rateLimitHeaders([]), {});
});

test('the refusal message tells the model what was limited and when to retry', () => {
  assert.equal(refusalMessage(refusal), 'Rate limit exceeded for this credential: retry in 12 seconds.');
  assert.equal(
    refusalMessage({ ...refusal, tier: 'tool', reason: 'rate-limit-tool', retryAfterSeconds: 1 }),
    'Rate limit exceeded for this tool: retry in 1 second.',
  );
});
