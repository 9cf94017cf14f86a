import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditIntent } from './audit-intent.js';
import { fakeTool, fixture, handOn, HANDED_ON } from './fixture.js';

describe('the audit-intent stage', () => {
  it('a write tool runs only after its tool-intent record is committed', async () => {
    const { ctx, records } = fixture();
    const answer = await auditIntent(ctx, () => {
      assert.equal(records[0]?.event, 'tool-intent');
      assert.equal(records[0]?.outcome, 'pending');
      return handOn();
    });
    assert.equal(answer, HANDED_ON);
  });

  it('a read tool needs no intent record', async () => {
    const { ctx, records } = fixture({ ctx: { tool: fakeTool({ class: 'read' }) } });
    await auditIntent(ctx, handOn);
    assert.equal(records.length, 0);
  });

  it('when the intent cannot be committed the tool does not run: 503, safe to retry', async () => {
    const { ctx } = fixture({ auditDown: true });
    const answer = await auditIntent(ctx, () => assert.fail('the tool ran'));
    assert.equal(answer.kind, 'unavailable');
    assert.ok(ctx.reasons.includes('audit-unavailable'));
  });
});
