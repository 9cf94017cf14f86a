import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOutput } from './check-output.js';
import { fakeTool, fixture, handOn, HANDED_ON } from './fixture.js';

describe('the check-output stage', () => {
  it('output that breaks its own schema is a failure of the tool, answered with a correlation id', async () => {
    const tool = fakeTool({
      checkOutput: () => ({ ok: false, issues: [{ path: 'id', message: 'Required' }] }),
    });
    const { ctx, records } = fixture({ ctx: { tool, out: { content: [], structured: {} } } });
    const answer = await checkOutput(ctx, () => assert.fail('handed on'));
    assert.match(JSON.stringify(answer), /does not match its output schema \(correlation id req_1\)/);
    assert.equal(records[0]?.errorCode, 'output-invalid');
  });

  it('a tool-reported error is not held to the output schema', async () => {
    const tool = fakeTool({ checkOutput: () => assert.fail('checked') });
    const { ctx } = fixture({ ctx: { tool, out: { content: [], isError: true } } });
    assert.equal(await checkOutput(ctx, handOn), HANDED_ON);
  });
});
