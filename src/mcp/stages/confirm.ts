import type { JsonValue } from '../../audit/index.js';
import type { ConfirmStep } from '../../approvals/index.js';
import {
  errorResult,
  given,
  internalError,
  resultEnding,
  type CallContext,
  type CallStage,
  type ToolCallOutcome,
} from '../context.js';
import { fail, finish } from './finish.js';

type Settled = ConfirmStep & { kind: 'proceed' | 'stop' };

/**
 * The confirm stage: enforces a `confirm` decision after validation, so a person is never asked
 * to approve a call that could not run (confirm-call.ts has the channels). An `allow` passes.
 */
export const confirm: CallStage = async (ctx, next) => {
  const decision = given(ctx.decision, 'decision');
  if (decision.effect === 'allow') return next();
  const { req } = ctx;
  const step = await ctx.env.confirm.confirm({
    principal: req.principal,
    tool: given(ctx.tool, 'tool'),
    args: ctx.args,
    // The person sees what will run: only the gateway's own secrets are hidden from them. A
    // pattern match (a token-like string) stays visible, or a model could hide its payload in one.
    shownArgs: ctx.env.deps.output.redactKnownValues((ctx.args ?? {}) as JsonValue),
    channel: decision.obligations.approval ?? 'out-of-band',
    client: req.confirmVia,
    ...(req.elicits ? { elicits: req.elicits } : {}),
    signal: req.signal,
    ...(req.requestState !== undefined ? { requestState: req.requestState } : {}),
    ...(req.inputResponses ? { inputResponses: req.inputResponses } : {}),
  });
  const settle = (s: Settled): Promise<ToolCallOutcome> => {
    if (s.kind === 'proceed') {
      ctx.reasons.push('confirmation-accepted');
      return next();
    }
    ctx.reasons.push(s.reason);
    return finish(ctx, resultEnding(ctx, errorResult(s.text), 'denied', 'confirmation'));
  };
  switch (step.kind) {
    case 'proceed':
    case 'stop':
      return settle(step);
    case 'ask-input':
      if (step.reason) ctx.reasons.push(step.reason);
      return finish(ctx, {
        decision: 'confirm',
        outcome: 'denied',
        errorCode: 'confirmation',
        answer: {
          kind: 'input-required',
          message: step.message,
          ...(step.requestState ? { requestState: step.requestState } : {}),
          ...(step.url ? { url: step.url } : {}),
        },
      });
    case 'ask-session':
      return suspend(ctx, step, settle);
  }
};

/**
 * 2025 session: the call is suspended, not ended. It stays open (and holds its concurrency
 * slot) until the person answers on the request's stream; `resume` then settles it, and the
 * call ends through `finish` there, writing its one record.
 */
function suspend(
  ctx: CallContext,
  step: ConfirmStep & { kind: 'ask-session' },
  settle: (s: Settled) => Promise<ToolCallOutcome>,
): Promise<ToolCallOutcome> {
  const admitted = given(ctx.admitted, 'admitted');
  ctx.holdSlot = true;
  let resumed = false;
  return Promise.resolve({
    kind: 'elicit',
    message: step.message,
    timeoutMs: step.timeoutMs,
    ...(step.url ? { url: step.url, elicitationId: step.elicitationId } : {}),
    resume: async (a, hooks) => {
      if (resumed) return internalError(ctx.req.meta.requestId);
      resumed = true;
      try {
        return await settle(await step.answer(a, hooks));
      } catch (err) {
        return await fail(ctx, err);
      } finally {
        admitted.release();
      }
    },
  });
}
