import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RateLimits } from '../../ratelimit/index.js';
import { fixture, handOn, HANDED_ON } from './fixture.js';
import { rateLimit } from './rate-limit.js';

function limits(allowed: boolean, released: string[]): RateLimits {
  const decision = allowed
    ? { allowed: true, usage: [], release: () => released.push('released') }
    : { allowed: false, tier: 'calls', reason: 'rate-limit-calls', retryAfterSeconds: 5, usage: [] };
  return { checkToolCall: () => Promise.resolve(decision) } as unknown as RateLimits;
}

describe('the rate-limit stage', () => {
  it('a refused call ends rate-limited with its record, and the rest of the flow never runs', async () => {
    const { ctx, records } = fixture({ deps: { limits: limits(false, []) } });
    const answer = await rateLimit(ctx, () => assert.fail('handed on'));
    assert.equal(answer.kind, 'rate-limited');
    assert.equal(records[0]?.outcome, 'rate-limited');
  });

  it('an admitted call holds its concurrency slot until the rest of the flow has ended', async () => {
    const released: string[] = [];
    const { ctx } = fixture({ deps: { limits: limits(true, released) } });
    const answer = await rateLimit(ctx, () => {
      assert.deepEqual(released, []);
      return handOn();
    });
    assert.equal(answer, HANDED_ON);
    assert.deepEqual(released, ['released']);
  });

  it('a call suspended for a 2025 elicitation keeps the slot (the resumed call releases it)', async () => {
    const released: string[] = [];
    const { ctx } = fixture({ deps: { limits: limits(true, released) } });
    await rateLimit(ctx, () => {
      ctx.holdSlot = true;
      return handOn();
    });
    assert.deepEqual(released, []);
  });

  it('with rate limiting switched off every call is admitted', async () => {
    const { ctx } = fixture({ deps: { limits: undefined } });
    assert.equal(await rateLimit(ctx, handOn), HANDED_ON);
  });
});
