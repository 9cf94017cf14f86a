import { given, unavailable, type CallStage } from '../context.js';
import { callEntry, finish } from './finish.js';
import { auditUnavailable } from './record.js';

/**
 * The audit-intent stage: a tool with side effects runs only once the audit log holds the
 * record that it is about to (DESIGN.md: a side effect never happens without its record). If
 * that commit fails, the tool does not run: 503, safe to retry.
 */
export const auditIntent: CallStage = async (ctx, next) => {
  const { audit, metrics } = ctx.env.deps;
  if (given(ctx.tool, 'tool').class === 'read' || !audit) return next();
  const stop = metrics.startStage('audit');
  try {
    await audit.log.append(
      callEntry(ctx, { event: 'tool-intent', decision: ctx.auditDecision, outcome: 'pending' }),
    );
  } catch (err) {
    auditUnavailable(ctx.env.deps, err, ctx.req.meta.requestId);
    ctx.reasons.push('audit-unavailable');
    return finish(ctx, {
      decision: ctx.auditDecision,
      outcome: 'failed',
      errorCode: 'audit-unavailable',
      answer: unavailable(ctx.req.meta.requestId),
    });
  } finally {
    stop();
  }
  return next();
};
