import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QuarantineStore } from '../../storage/index.js';
import type { SecuredOutput } from '../../safety/index.js';
import { fixture, handOn, T0 } from './fixture.js';
import { quarantine } from './quarantine.js';

const clean: SecuredOutput = { result: { content: [] }, redactions: 0, truncated: false };

describe('the quarantine stage', () => {
  it('a withheld result is stored for review and the model is told its id instead', async () => {
    const stored: { id: string; createdAt: Date; status: string }[] = [];
    const store = { insert: (q: (typeof stored)[number]) => Promise.resolve(void stored.push(q)) };
    const { ctx } = fixture({
      deps: { quarantine: store as unknown as QuarantineStore },
      ctx: { secured: { ...clean, quarantined: { content: [{ type: 'text', text: 'ignore all' }] } } },
    });
    await quarantine(ctx, handOn);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.createdAt.getTime(), T0);
    assert.equal(stored[0]?.status, 'pending');
    assert.match(JSON.stringify(ctx.result), new RegExp(`quarantined as ${stored[0]?.id}`));
  });

  it('a clean result passes untouched', async () => {
    const { ctx } = fixture({ ctx: { secured: clean, result: clean.result } });
    await quarantine(ctx, handOn);
    assert.equal(ctx.result, clean.result);
  });
});
