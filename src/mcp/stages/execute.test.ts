import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ToolInputError } from '../../tools/index.js';
import type { OutputGuard } from '../../safety/index.js';
import { execute } from './execute.js';
import { fakeTool, fixture, handOn, HANDED_ON } from './fixture.js';

const passThrough = { secure: (_tool: unknown, result: unknown) => ({ result }) } as unknown as OutputGuard;
const noTaint = { record: () => Promise.resolve() };

describe('the execute stage', () => {
  it('a result is handed on to the output stages, and the call counts as having acted', async () => {
    const { ctx } = fixture();
    assert.equal(await execute(ctx, handOn), HANDED_ON);
    assert.deepEqual(ctx.out?.content, [{ type: 'text', text: 'saved' }]);
    assert.equal(ctx.effectful, true);
  });

  it("a ToolInputError is the caller's to fix: its message goes back in-band, through output security", async () => {
    const tool = fakeTool({ execute: () => Promise.reject(new ToolInputError('no note n_1')) });
    const { ctx, records } = fixture({
      ctx: { tool },
      deps: { output: passThrough, taint: noTaint as never },
    });
    const answer = await execute(ctx, () => assert.fail('handed on'));
    assert.match(JSON.stringify(answer), /no note n_1/);
    assert.equal(records[0]?.errorCode, 'tool-error');
  });

  it('any other exception is an internal error with a correlation id; its text stays private', async () => {
    const tool = fakeTool({ execute: () => Promise.reject(new Error('secret stack detail')) });
    const { ctx, records } = fixture({ ctx: { tool } });
    const answer = await execute(ctx, () => assert.fail('handed on'));
    assert.equal(answer.kind === 'rpc-error' && answer.code, -32603);
    assert.doesNotMatch(JSON.stringify(answer), /secret stack detail/);
    assert.deepEqual(records[0]?.reasons, ['tool-failed']);
  });
});
