import { randomBytes } from 'node:crypto';
import { errorResult, given, type CallStage } from '../context.js';

/**
 * The quarantine stage: a result the output policy withholds is stored for a person to review,
 * and the model is told so instead.
 */
export const quarantine: CallStage = async (ctx, next) => {
  const secured = given(ctx.secured, 'secured');
  if (!secured.quarantined) return next();
  const { deps } = ctx.env;
  const { principal, meta } = ctx.req;
  const tool = given(ctx.tool, 'tool');
  const id = `q_${randomBytes(12).toString('base64url')}`;
  await deps.quarantine.insert({
    id,
    tenant: principal.tenant,
    principal: principal.subject,
    tool: tool.name,
    correlationId: meta.requestId,
    createdAt: deps.now(),
    status: 'pending',
    decidedAt: null,
    result: JSON.stringify(secured.quarantined),
    findings: JSON.stringify(secured.injection?.findings ?? []),
  });
  deps.logger.warn(
    { alert: 'output-quarantined', requestId: meta.requestId, tool: tool.name, quarantineId: id },
    'tool result quarantined',
  );
  ctx.result = errorResult(
    `Portcullis withheld the result of ${tool.name}: it contains text that looks like instructions to an AI ` +
      `model. It is quarantined as ${id} for a person to review; do not retry to get around this.`,
  );
  return next();
};
