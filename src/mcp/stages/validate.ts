import type { SchemaIssue } from '../../tools/index.js';
import { errorResult, given, resultEnding, type CallStage } from '../context.js';
import { finish } from './finish.js';

/** The validate stage: the tool's own (strict) schema; the model is told what to fix. */
export const validate: CallStage = async (ctx, next) => {
  const tool = given(ctx.tool, 'tool');
  const parsed = tool.checkArgs(ctx.args);
  if (parsed.ok) {
    ctx.value = parsed.value;
    return next();
  }
  ctx.reasons.push('arguments-invalid');
  return finish(
    ctx,
    resultEnding(
      ctx,
      errorResult(describeInvalidArguments(tool.name, parsed.issues)),
      'invalid',
      'invalid-arguments',
    ),
  );
};

/** Formats validation issues so the model can correct its call: one line per field. */
function describeInvalidArguments(tool: string, issues: readonly SchemaIssue[]): string {
  const lines = issues.map((issue) => `- ${issue.path}: ${issue.message}`);
  return `Invalid arguments for ${tool}:\n${lines.join('\n')}\nFix these and call ${tool} again.`;
}
