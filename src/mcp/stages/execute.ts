import { MissingCapabilityError, ToolInputError } from '../../tools/index.js';
import { JSON_RPC } from '../protocol.js';
import { errorResult, given, internalError, resultEnding, type CallStage } from '../context.js';
import { finish } from './finish.js';
import { recordTaint } from './record-taint.js';

/**
 * The execute stage. A `ToolInputError` is the caller's to fix: its message goes back as an
 * `isError` result, through the same output security as a result (it may quote what the tool
 * saw). Anything else is an internal failure with a correlation id.
 */
export const execute: CallStage = async (ctx, next) => {
  const { deps } = ctx.env;
  const { req } = ctx;
  const tool = given(ctx.tool, 'tool');
  ctx.effectful = true;
  const stop = deps.metrics.startStage('execute');
  // Only upstream targets send notifications; built-ins keep the plain answer (and its status).
  if (tool.upstream !== undefined) req.onRun?.();
  try {
    ctx.out = await tool.execute(ctx.value, {
      principal: req.principal,
      requestId: req.meta.requestId,
      signal: req.signal,
      ...(req.notify ? { notify: req.notify } : {}),
      ...(req.requestInput ? { requestInput: req.requestInput } : {}),
      ...(req.clientCapabilities ? { clientCapabilities: req.clientCapabilities } : {}),
      ...(req.progressToken !== undefined ? { progressToken: req.progressToken } : {}),
      ...(req.logLevel ? { logLevel: req.logLevel } : {}),
      onUpstreamIdentity: (identity) => (ctx.upstreamIdentity = identity),
    });
  } catch (err) {
    if (err instanceof ToolInputError) {
      ctx.reasons.push('tool-input-error');
      await recordTaint(ctx);
      const secured = deps.output.secure(tool, errorResult(err.message)).result;
      return finish(ctx, resultEnding(ctx, secured, 'failed', 'tool-error'));
    }
    if (err instanceof MissingCapabilityError) {
      ctx.reasons.push('tool-input-error');
      return finish(ctx, {
        decision: ctx.auditDecision,
        outcome: 'failed',
        errorCode: 'missing-capability',
        answer: {
          kind: 'rpc-error',
          code: JSON_RPC.missingCapability,
          message: err.message,
          data: { requiredCapabilities: err.requiredCapabilities },
        },
      });
    }
    if (req.signal.aborted) {
      deps.logger.info(
        { requestId: req.meta.requestId, tool: tool.name },
        'tool call ended: the client went away',
      );
    } else {
      deps.logger.error({ err, requestId: req.meta.requestId, tool: tool.name }, 'tool execution failed');
    }
    ctx.reasons.push('tool-failed');
    return finish(ctx, {
      decision: ctx.auditDecision,
      outcome: 'failed',
      errorCode: 'internal',
      answer: internalError(req.meta.requestId),
    });
  } finally {
    stop();
  }
  return next();
};
