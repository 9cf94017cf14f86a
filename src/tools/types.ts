import type { z } from 'zod';
import type { Principal } from '../auth/principal.js';

/** How much harm a tool can do. Operator-assigned; an upstream's own annotations never lower it. */
export type ToolClass = 'read' | 'write' | 'destructive';

/** Data labels used by tool-chain (taint) rules. */
export type ToolLabel = 'private-data' | 'untrusted-source' | 'external-sink';

/** What a tool's `execute` receives besides its validated arguments. */
export interface ToolContext {
  readonly principal: Principal;
  readonly requestId: string;
  readonly signal: AbortSignal;
}

/** The `structuredContent` plus the text a model reads. */
export interface ToolOutput<O> {
  readonly structured: O;
  readonly text: string;
}

/**
 * A tool Portcullis can serve. Arguments are validated against `input` (strict: unknown keys are
 * rejected) before `execute` runs, and `execute` returns data matching `output`.
 */
export interface ToolDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** The scope a caller needs to see and call this tool. */
  readonly scope: string;
  readonly class: ToolClass;
  readonly labels: readonly ToolLabel[];
  readonly input: I;
  readonly output: O;
  execute(args: z.output<I>, ctx: ToolContext): Promise<ToolOutput<z.output<O>>>;
}

/** Erases the generic parameters so definitions of different shapes fit in one catalogue. */
export type AnyToolDefinition = ToolDefinition<z.ZodType, z.ZodType>;

/** Declares a tool with its argument and result types inferred from its schemas. */
export function defineTool<I extends z.ZodType, O extends z.ZodType>(
  def: ToolDefinition<I, O>,
): AnyToolDefinition {
  return def;
}

/**
 * A failure the caller can fix (a missing note, a refused URL). Its message is written for the
 * model and goes back as an `isError` result; any other exception becomes a generic internal
 * error with a correlation id.
 */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError';
}
