import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallNotification, ToolContext } from '../tools/index.js';
import { createCallRelay, RELAY_LIMITS } from './relay-notifications.js';

function context(extra: Partial<ToolContext> = {}) {
  const received: CallNotification[] = [];
  const ctx = {
    principal: {},
    requestId: 'r',
    signal: new AbortController().signal,
    notify: (n: CallNotification) => received.push(n),
    ...extra,
  } as unknown as ToolContext;
  return { ctx, received };
}

const redact = (t: string) => t.replaceAll('hunter2-secret-value', '[REDACTED:known-secret]');

describe('relaying an upstream’s notifications to one caller', () => {
  it('progress goes out under the caller’s token; the upstream gets a fresh token of ours', () => {
    const { ctx, received } = context({ progressToken: 42 });
    const relay = createCallRelay(ctx, { redact });
    assert.match(relay.progressToken!, /^portcullis-[0-9a-f-]{36}$/);
    assert.notEqual(createCallRelay(ctx, { redact }).progressToken, relay.progressToken);
    relay.onNotification!('notifications/progress', {
      progressToken: relay.progressToken,
      progress: 1,
      total: 2,
      message: 'half',
    });
    relay.onNotification!('notifications/progress', { progressToken: relay.progressToken, progress: 1 });
    relay.onNotification!('notifications/progress', { progressToken: relay.progressToken, progress: 'x' });
    assert.deepEqual(received, [
      {
        method: 'notifications/progress',
        params: { progressToken: 42, progress: 1, total: 2, message: 'half' },
      },
    ]);
    assert.deepEqual(relay.counts().dropped, { 'not-monotonic': 1, malformed: 1 });
  });

  it('no progress token is sent when the caller asked for none, and nothing at all without a notify', () => {
    assert.equal(createCallRelay(context().ctx, { redact }).progressToken, undefined);
    const silent = createCallRelay({ ...context({ progressToken: 1 }).ctx, notify: undefined }, { redact });
    assert.equal(silent.progressToken, undefined);
    assert.equal(silent.onNotification, undefined);
  });

  it('log messages below the caller’s level are dropped; the rest are redacted and cleaned', () => {
    const { ctx, received } = context({ logLevel: 'warning' });
    const relay = createCallRelay(ctx, { redact });
    relay.onNotification!('notifications/message', { level: 'info', data: 'chatty' });
    relay.onNotification!('notifications/message', { level: 'shout', data: 'x' });
    relay.onNotification!('notifications/message', {
      level: 'error',
      logger: 'db\u001b[31m',
      data: { msg: 'password hunter2-secret-value\u202e', ['key hunter2-secret-value']: 1 },
    });
    assert.deepEqual(received, [
      {
        method: 'notifications/message',
        params: {
          level: 'error',
          logger: 'db',
          data: { msg: 'password [REDACTED:known-secret]', 'key [REDACTED:known-secret]': 1 },
        },
      },
    ]);
  });

  it('a flood is capped per second and per call, and an oversized one is dropped whole', () => {
    let t = 0;
    const { ctx, received } = context({ logLevel: 'debug' });
    const relay = createCallRelay(ctx, { redact, now: () => t });
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 0) t += 1000;
      relay.onNotification!('notifications/message', { level: 'info', data: `n${i}` });
    }
    assert.equal(received.length, RELAY_LIMITS.perCall);
    assert.equal(relay.counts().dropped.rate, 1000 - RELAY_LIMITS.perCall);
    const big = createCallRelay(context().ctx, { redact });
    big.onNotification!('notifications/message', {
      level: 'error',
      data: ['x'.repeat(3000), 'y'.repeat(3000), 'z'.repeat(3000)],
    });
    assert.equal(big.counts().dropped.size, 1);
  });
});
