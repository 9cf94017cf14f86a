import { given, type CallStage } from '../context.js';
import { JSON_RPC } from '../protocol.js';
import { finish } from './finish.js';

/** The check-shape stage: malformed params are refused with -32602 and recorded. */
export const checkShape: CallStage = async (ctx, next) => {
  const shape = given(ctx.shape, 'shape');
  if (shape.ok) return next();
  ctx.reasons.push(shape.reason);
  return finish(ctx, {
    decision: 'deny',
    outcome: 'invalid',
    errorCode: 'invalid-params',
    answer: { kind: 'rpc-error', code: JSON_RPC.invalidParams, message: shape.message },
  });
};
