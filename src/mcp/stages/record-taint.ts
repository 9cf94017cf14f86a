import { given, type CallContext, type CallStage } from '../context.js';

/**
 * Whatever the tool returned has reached the model's context, so its labels count from now on
 * (a tool-reported error can carry untrusted text as well as a result can).
 */
export function recordTaint(ctx: CallContext): Promise<void> {
  const { deps } = ctx.env;
  const labels = given(ctx.decision, 'decision').classification.labels;
  return deps.taint.record(ctx.req.principal, labels, deps.now().getTime());
}

/** The record-taint stage. */
export const recordTaintStage: CallStage = async (ctx, next) => {
  await recordTaint(ctx);
  return next();
};
