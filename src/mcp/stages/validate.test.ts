import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeTool, fixture, handOn, HANDED_ON } from './fixture.js';
import { validate } from './validate.js';

describe('the validate stage', () => {
  it('invalid arguments are answered in-band, one line per field, and recorded as invalid', async () => {
    const tool = fakeTool({
      checkArgs: () => ({ ok: false, issues: [{ path: 'content', message: 'Required' }] }),
    });
    const { ctx, records } = fixture({ ctx: { tool } });
    const answer = await validate(ctx, () => assert.fail('handed on'));
    assert.equal(answer.kind === 'result' && answer.result.isError, true);
    assert.match(JSON.stringify(answer), /- content: Required/);
    assert.equal(records[0]?.outcome, 'invalid');
    assert.equal(records[0]?.errorCode, 'invalid-arguments');
  });

  it('valid arguments are handed on as the parsed value', async () => {
    const tool = fakeTool({ checkArgs: () => ({ ok: true, value: { content: 'parsed' } }) });
    const { ctx } = fixture({ ctx: { tool } });
    assert.equal(await validate(ctx, handOn), HANDED_ON);
    assert.deepEqual(ctx.value, { content: 'parsed' });
  });
});
