import { given, unavailable, type CallStage } from '../context.js';
import { callEntry, finish } from './finish.js';
import { auditUnavailable } from './record.js';
import type { Tool } from '../../tools/index.js';

/**
 * Whether running the tool reaches outside the gateway. A `read` tool that does is a side effect
 * all the same: web_fetch sends a URL the caller chose (a query string can carry private data
 * out), and an upstream tool hands its arguments to another server, whatever it calls itself.
 * Only the gateway's own local reads (memory_get, memory_search) are free of that.
 */
const reachesOutside = (tool: Tool) =>
  tool.upstream !== undefined ||
  tool.labels.includes('untrusted-source') ||
  tool.labels.includes('external-sink');

/**
 * The audit-intent stage: a tool with side effects, or one that reaches outside the gateway,
 * runs only once the audit log holds the record that it is about to (DESIGN.md: a side effect
 * never happens without its record). If that commit fails, the tool does not run: 503, safe to
 * retry.
 */
export const auditIntent: CallStage = async (ctx, next) => {
  const { audit, metrics } = ctx.env.deps;
  const tool = given(ctx.tool, 'tool');
  if ((tool.class === 'read' && !reachesOutside(tool)) || !audit) return next();
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
