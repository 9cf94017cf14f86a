import { given, type CallStage } from '../context.js';
import { unknownTargetMessage } from '../resolve-target.js';
import { JSON_RPC } from '../protocol.js';
import { finish } from './finish.js';

/** The resolve-tool stage: a target nothing answers to is -32602, in-band (resolve-target.ts). */
export const resolveTool: CallStage = async (ctx, next) => {
  if (ctx.tool) return next();
  ctx.reasons.push('unknown-tool');
  return finish(ctx, {
    decision: 'deny',
    outcome: 'invalid',
    errorCode: 'unknown-tool',
    answer: {
      kind: 'rpc-error',
      code: JSON_RPC.invalidParams,
      message: unknownTargetMessage(ctx.method, given(ctx.name, 'name')),
      ...(ctx.method === 'resources/read' ? { data: { uri: given(ctx.name, 'name') } } : {}),
    },
  });
};
