import { frameModernToolCall } from '../frame-tool-call.js';
import type { RequestStage } from '../context.js';
import { METHOD } from '../protocol.js';

/** The frame-modern stage: a finished 2026-07-28 tools/call needs no SDK server (frame-tool-call.ts). */
export const frameModern: RequestStage = async (ctx, next) => {
  const { toolCall } = ctx;
  if (
    ctx.checked?.refusal === undefined &&
    ctx.checked?.route === 'modern' &&
    ctx.checked.message.method === METHOD.toolsCall &&
    toolCall &&
    (toolCall.kind === 'result' || toolCall.kind === 'rpc-error' || toolCall.kind === 'input-required')
  ) {
    return frameModernToolCall(
      ctx.id,
      toolCall,
      toolCall.kind === 'result' ? toolCall.headers : undefined,
      ctx.commonHeaders,
    );
  }
  return next();
};
