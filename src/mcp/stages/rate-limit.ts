import type { ToolCallRateDecision } from '../../ratelimit/index.js';
import { given, type CallStage } from '../context.js';
import { finish } from './finish.js';

const UNLIMITED = { allowed: true, release: () => undefined, usage: [] } as const;

/**
 * The rate-limit stage: every tier. The concurrency slot is held for the rest of the call and
 * released when it ends, or, while a 2025 session elicits (`holdSlot`), by the resumed call.
 */
export const rateLimit: CallStage = async (ctx, next) => {
  const { limits, metrics } = ctx.env.deps;
  const { principal, meta } = ctx.req;
  const stop = metrics.startStage('rate-limit');
  let admitted: ToolCallRateDecision;
  try {
    admitted = limits
      ? await limits.checkToolCall({
          // Keyed by the grant or key (Principal.binding), never by the token of the day.
          caller: principal.binding,
          ...(meta.sessionId ? { sessionId: meta.sessionId } : {}),
          tool: given(ctx.name, 'name'),
          ...(ctx.tool?.upstream ? { upstream: ctx.tool.upstream } : {}),
        })
      : UNLIMITED;
  } finally {
    stop();
  }
  if (!admitted.allowed) {
    metrics.recordRateLimitRejection(admitted.tier);
    ctx.reasons.push(admitted.reason);
    return finish(ctx, {
      decision: 'deny',
      outcome: 'rate-limited',
      errorCode: 'rate-limited',
      answer: { kind: 'rate-limited', refusal: admitted },
    });
  }
  ctx.admitted = admitted;
  try {
    return await next();
  } finally {
    if (!ctx.holdSlot) admitted.release();
  }
};
