import { errorResult, given, resultEnding, type CallStage } from '../context.js';
import { finish } from './finish.js';

/** The check-output stage: a tool that breaks its own output schema is a bug, not the caller's fault. */
export const checkOutput: CallStage = async (ctx, next) => {
  const tool = given(ctx.tool, 'tool');
  const out = given(ctx.out, 'out');
  const checked = out.isError
    ? { ok: true as const, value: out.structured }
    : tool.checkOutput(out.structured);
  if (checked.ok) {
    ctx.structured = checked.value;
    return next();
  }
  const { requestId } = ctx.req.meta;
  ctx.env.deps.logger.error(
    { requestId, tool: tool.name, issues: checked.issues },
    'tool output failed its schema',
  );
  ctx.reasons.push('output-invalid');
  return finish(
    ctx,
    resultEnding(
      ctx,
      errorResult(
        `${tool.name} returned a result that does not match its output schema (correlation id ${requestId}).`,
      ),
      'failed',
      'output-invalid',
    ),
  );
};
