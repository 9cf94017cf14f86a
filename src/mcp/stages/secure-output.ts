import type { PipelineReason } from '../reasons.js';
import type { ToolOutput } from '../../tools/index.js';
import { given, type CallStage } from '../context.js';

const INJECTION_REASON = {
  annotate: 'injection-annotated',
  redact: 'injection-redacted',
  quarantine: 'injection-quarantined',
} as const satisfies Record<string, PipelineReason>;

/** The secure-output stage: detect, act on injection, sanitise, redact, wrap (safety/). */
export const secureOutput: CallStage = async (ctx, next) => {
  const { output, metrics } = ctx.env.deps;
  const out = given(ctx.out, 'out');
  const stop = metrics.startStage('sanitise');
  const structured = ctx.structured ?? promptParts(out);
  const tool = given(ctx.tool, 'tool');
  const secured = output.secure(completionValues(ctx) ? { name: tool.name, labels: [] } : tool, {
    content: [...out.content],
    ...(structured ? { structuredContent: structured } : {}),
    ...(out.isError ? { isError: true } : {}),
  });
  stop();
  if (secured.truncated) ctx.reasons.push('output-truncated');
  if (secured.redactions > 0) ctx.reasons.push('output-redacted');
  if (secured.action) ctx.reasons.push(INJECTION_REASON[secured.action]);
  if (out.isError) ctx.reasons.push('tool-reported-error');
  ctx.secured = secured;
  ctx.result = secured.result;
  return next();
};

/**
 * Completion values are suggestions for an argument field, not text for a model: detected,
 * sanitised and redacted like any output, but never wrapped in provenance markers (a wrapped
 * value is no value). The owner's labels still count for taint (record-taint stage).
 */
const completionValues = (ctx: Parameters<CallStage>[0]) => ctx.method === 'completion/complete';

/**
 * A prompt's roles and description ride in `structuredContent` through the output stage, so the
 * description (upstream text like the messages) is detected, sanitised and redacted with them;
 * frame-surface.ts takes them back out.
 */
function promptParts(out: ToolOutput): Record<string, unknown> | undefined {
  if (!out.roles && out.description === undefined) return undefined;
  return {
    ...(out.roles ? { roles: [...out.roles] } : {}),
    ...(out.description !== undefined ? { description: out.description } : {}),
  };
}
