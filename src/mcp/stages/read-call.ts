import { describeArgs, type AuditEntry, type JsonValue } from '../../audit/index.js';
import type { CallContext, CallStage } from '../context.js';
import { checkCallShape } from '../check-call.js';
import { resolveTarget } from '../resolve-target.js';

/**
 * The read-call stage: parses the params (check-shape.ts) and finds the target (a tool, or an
 * upstream's prompt, resource or completion: resolve-target.ts), before any
 * exit, so that every call, however malformed or refused, is one its record can describe.
 */
export const readCall: CallStage = async (ctx, next) => {
  const shape = checkCallShape(ctx.req.params, ctx.method);
  ctx.shape = shape;
  ctx.name = shape.name;
  const { catalogue } = ctx.env.deps;
  // A malformed tools/call still names its tool, for the record's upstream and scope.
  ctx.tool = shape.ok
    ? resolveTarget(catalogue, ctx.method, shape.name, shape.args)
    : ctx.method === 'tools/call' && shape.name !== undefined
      ? catalogue.get(shape.name)
      : undefined;
  if (shape.ok) {
    ctx.args = shape.args;
    ctx.described = describe(ctx, shape.args as JsonValue, shape.name);
  }
  return next();
};

/**
 * The arguments as the record describes them (keyed hash and shape, or the redacted payload
 * for opted-in tools). Never throws: a record without its arguments beats no record.
 */
function describe(ctx: CallContext, args: JsonValue, tool: string): AuditEntry['args'] {
  const { audit, output, logger } = ctx.env.deps;
  if (!audit) return undefined;
  try {
    return describeArgs(output.redactValue(args), audit.argsKey, {
      fullPayload: ctx.env.fullPayload.some((g) => g.test(tool)),
    });
  } catch (err) {
    logger.error(
      { err, requestId: ctx.req.meta.requestId },
      'tool-call arguments could not be described for the audit record',
    );
    return undefined;
  }
}
