import { z } from 'zod';
import type {
  Checked,
  ObjectJsonSchema,
  SchemaIssue,
  Tool,
  ToolClass,
  ToolContext,
  ToolLabel,
} from './types.js';

/** A built-in tool declared with zod schemas; `defineTool` turns it into a catalogue `Tool`. */
export interface BuiltInToolSpec<I extends z.ZodType, O extends z.ZodType> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly scope: string;
  readonly class: ToolClass;
  readonly labels: readonly ToolLabel[];
  /** Strict (z.strictObject) so unknown keys are rejected, not ignored. */
  readonly input: I;
  readonly output: O;
  execute(args: z.output<I>, ctx: ToolContext): Promise<{ structured: z.output<O>; text: string }>;
}

function toJsonSchema(schema: z.ZodType): ObjectJsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
  if (json.type !== 'object') throw new Error('tool schemas must describe an object');
  return json as ObjectJsonSchema;
}

/** zod issues as path + message, unknown keys spelled out so the model removes them. */
function zodIssues(error: z.ZodError): SchemaIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : 'arguments';
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unknown field(s) ${issue.keys.join(', ')}; remove them` };
    }
    return { path, message: issue.message };
  });
}

function check<T>(schema: z.ZodType, value: unknown): Checked<T> {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, value: r.data as T } : { ok: false, issues: zodIssues(r.error) };
}

/** Declares a built-in tool with its argument and result types inferred from its schemas. */
export function defineTool<I extends z.ZodType, O extends z.ZodType>(spec: BuiltInToolSpec<I, O>): Tool {
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    scope: spec.scope,
    class: spec.class,
    labels: spec.labels,
    inputSchema: toJsonSchema(spec.input),
    outputSchema: toJsonSchema(spec.output),
    checkArgs: (args) => check(spec.input, args),
    checkOutput: (structured) => check(spec.output, structured),
    async execute(args, ctx) {
      const out = await spec.execute(args as z.output<I>, ctx);
      return {
        content: [{ type: 'text', text: out.text }],
        structured: out.structured as Record<string, unknown>,
      };
    },
  };
}
