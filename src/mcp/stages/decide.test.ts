import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision, TaintTracker } from '../../policy/index.js';
import { decideCall } from './decide.js';
import { allow, fixture, handOn, HANDED_ON } from './fixture.js';

const taint = (labels: string[]) =>
  ({ seen: () => Promise.resolve(new Set(labels)) }) as unknown as TaintTracker;

function withDecision(decision: Decision) {
  const f = fixture({
    deps: { taint: taint(['untrusted-source']) },
    ctx: { admitted: { allowed: true, usage: [], release: () => undefined } },
  });
  return { ...f, ctx: { ...f.ctx, env: { ...f.ctx.env, decide: () => decision } } };
}

describe('the decide stage', () => {
  it('a missing scope is a scope denial naming the scope (the 403 step-up challenge)', async () => {
    const { ctx, records } = withDecision({
      ...allow,
      effect: 'deny',
      reasons: ['scope-missing'],
      obligations: { requiredScope: 'memory:write' },
    });
    const answer = await decideCall(ctx, () => assert.fail('handed on'));
    assert.deepEqual(answer, { kind: 'scope-denial', requiredScope: 'memory:write' });
    assert.equal(records[0]?.errorCode, 'insufficient-scope');
  });

  it('a tool-chain denial is told to the model in-band, naming the taint and the rule', async () => {
    const { ctx, records } = withDecision({
      ...allow,
      effect: 'deny',
      reasons: ['taint-untrusted-to-external'],
      matched: { flows: ['untrusted-to-external'] },
    });
    const answer = await decideCall(ctx, () => assert.fail('handed on'));
    assert.equal(answer.kind, 'result');
    const text = answer.kind === 'result' ? JSON.stringify(answer.result) : '';
    assert.match(text, /untrusted-source content/);
    assert.match(text, /untrusted-to-external/);
    assert.equal(records[0]?.errorCode, 'policy-denied');
  });

  it('an allowed call is handed on with its decision, its reasons and its RateLimit headers', async () => {
    const { ctx } = withDecision(allow);
    assert.equal(await decideCall(ctx, handOn), HANDED_ON);
    assert.deepEqual(ctx.reasons, ['scope-granted']);
    assert.equal(ctx.auditDecision, 'allow');
  });

  it('a confirm decision is recorded as confirm from here on', async () => {
    const { ctx } = withDecision({ ...allow, effect: 'confirm', reasons: ['confirmation-required'] });
    await decideCall(ctx, handOn);
    assert.equal(ctx.auditDecision, 'confirm');
  });
});
