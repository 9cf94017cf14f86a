import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runStages } from '../pipeline.js';
import type { CallStage } from '../context.js';
import { fail, finish } from './finish.js';
import { fixture, HANDED_ON } from './fixture.js';

const ending = { decision: 'allow', outcome: 'ok', answer: HANDED_ON } as const;

describe('finish: the one way out of a call', () => {
  it('commits one tool-call record with the reasons so far, then gives the answer', async () => {
    const { ctx, records } = fixture();
    ctx.reasons.push('scope-granted');
    assert.deepEqual(await finish(ctx, ending), HANDED_ON);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.event, 'tool-call');
    assert.equal(records[0]?.tool, 'memory_save');
    assert.deepEqual(records[0]?.reasons, ['scope-granted']);
  });

  it('answers 503 when the record cannot commit before anything ran, 500 once a tool may have acted', async () => {
    const before = fixture({ auditDown: true });
    assert.equal((await finish(before.ctx, ending)).kind, 'unavailable');
    const after = fixture({ auditDown: true, ctx: { effectful: true } });
    const answer = await finish(after.ctx, ending);
    assert.equal(answer.kind === 'rpc-error' && answer.code, -32603);
  });

  it('a call that ends twice writes no second record and answers an internal error', async () => {
    const { ctx, records } = fixture();
    await finish(ctx, ending);
    assert.equal((await finish(ctx, ending)).kind, 'rpc-error');
    assert.equal(records.length, 1);
  });

  it('a client that went away is named in the record, whatever the stage found', async () => {
    const gone = new AbortController();
    gone.abort();
    const { ctx, records } = fixture({ req: { signal: gone.signal } });
    await finish(ctx, { ...ending, outcome: 'failed', errorCode: 'internal' });
    assert.equal(records[0]?.errorCode, 'client-disconnected');
    assert.ok(records[0]?.reasons.includes('client-disconnected'));
  });

  it('an exception in a stage ends the call through finish as failed/internal', async () => {
    const { ctx, records } = fixture();
    const broken: CallStage = () => Promise.reject(new Error('boom'));
    const answer = await runStages([['broken', broken]], ctx, fail);
    assert.equal(answer.kind === 'rpc-error' && answer.code, -32603);
    assert.equal(records[0]?.outcome, 'failed');
    assert.deepEqual(records[0]?.reasons, ['internal-error']);
  });
});
