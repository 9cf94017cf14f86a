import type { PipelineReason } from '../reasons.js';
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
  const secured = output.secure(given(ctx.tool, 'tool'), {
    content: [...out.content],
    ...(ctx.structured ? { structuredContent: ctx.structured } : {}),
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
