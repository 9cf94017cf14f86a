import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIRM_KEY } from '../approvals/index.js';
import type { InputRequest } from '../tools/index.js';
import type { ToolCallOutcome } from './context.js';
import { createParkedCalls } from './park-call.js';

const ask = (key?: string): InputRequest => ({
  method: 'elicitation/create',
  params: { message: 'Name?', requestedSchema: { type: 'object' } },
  upstream: 'up',
  ...(key !== undefined ? { key } : {}),
});

describe('parked calls', () => {
  it('keep an upstream’s own plain keys; a clash, an odd key or the confirmation’s gets one of ours', async () => {
    const parked = createParkedCalls();
    const outcome = new Promise<ToolCallOutcome>(() => {});
    const { questions, next } = parked.start({
      binding: 'b',
      target: 't',
      caps: { elicitation: {} },
      outcome,
    });
    const answers = [
      questions.ask(ask('user_name')),
      questions.ask(ask('user_name')),
      questions.ask(ask('has space')),
      questions.ask(ask(CONFIRM_KEY)),
      questions.ask(ask()),
    ];
    const step = await next();
    assert.equal(step.kind, 'input');
    if (step.kind !== 'input') return;
    const keys = Object.keys(step.inputRequests);
    assert.equal(keys[0], 'user_name');
    assert.equal(keys.length, 5);
    assert.ok(
      keys.slice(1).every((k) => /^upstream_\d+$/.test(k)),
      keys.join(),
    );
    // The answer under the upstream's key reaches that question; the retry must be the caller's.
    assert.equal(parked.resume(step.requestState, 'other', 't', {}), undefined);
    assert.equal(parked.resume(step.requestState, 'b', 'other-target', {}), undefined);
    void parked.resume(step.requestState, 'b', 't', {
      user_name: { action: 'accept', content: { name: 'Ada' } },
    });
    const settled = await Promise.allSettled(answers);
    assert.deepEqual(settled[0], {
      status: 'fulfilled',
      value: { action: 'accept', content: { name: 'Ada' } },
    });
    assert.ok(settled.slice(1).every((s) => s.status === 'rejected' && /no answer/.test(String(s.reason))));
    parked.close();
  });
});
