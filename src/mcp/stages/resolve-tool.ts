import type { CallStage } from '../context.js';
import { JSON_RPC } from '../protocol.js';
import { finish } from './finish.js';

/** The resolve-tool stage: a name the catalogue does not hold is -32602, in-band. */
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
      message: `Unknown tool: ${ctx.name}. Call tools/list to see the available tools.`,
    },
  });
};
