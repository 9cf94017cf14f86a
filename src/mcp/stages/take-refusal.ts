import type { CallStage } from '../context.js';
import { finish } from './finish.js';

/** The take-refusal stage: the HTTP layer refused the request (headers, envelope, session). */
export const takeRefusal: CallStage = async (ctx, next) => {
  const { refusal } = ctx.req;
  if (!refusal) return next();
  ctx.reasons.push('request-refused');
  return finish(ctx, {
    decision: 'deny',
    outcome: 'invalid',
    errorCode: refusal.errorCode,
    answer: { kind: 'refused', refusal },
  });
};
