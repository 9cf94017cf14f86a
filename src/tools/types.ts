import type { Principal } from '../auth/index.js';

/** How much harm a tool can do. Operator-assigned; an upstream's own annotations never lower it. */
export type ToolClass = 'read' | 'write' | 'destructive';

/** Data labels used by tool-chain (taint) rules. */
export type ToolLabel = 'private-data' | 'untrusted-source' | 'external-sink';

/** What a tool's `execute` receives besides its validated arguments. */
export interface ToolContext {
  readonly principal: Principal;
  readonly requestId: string;
  readonly signal: AbortSignal;
  /**
   * Where an upstream's progress and log notifications about this call go: to this caller only.
   * Absent when the caller's transport cannot carry them (they are then dropped). Redaction and
   * rate caps are the caller of `notify`'s job (upstreams/), never the client's.
   */
  readonly notify?: (notification: CallNotification) => void;
  /** The caller's own progress token (`_meta.progressToken`), echoed on relayed progress. */
  readonly progressToken?: string | number;
  /** The least severe log level the caller wants relayed (RFC 5424 names, as MCP logging uses). */
  readonly logLevel?: LogLevel;
  /**
   * Asks the person behind this call for what an upstream requested during it (elicitation,
   * sampling, roots), labelled as the upstream's. Absent when the caller cannot be asked: the
   * upstream is then refused. Rejects when the caller refused or could not answer.
   */
  readonly requestInput?: (request: InputRequest) => Promise<Record<string, unknown>>;
  /**
   * The client features the caller declared it can serve (elicitation, sampling, roots): a
   * 2026-07-28 request's own, a 2025 session's from its initialize. Absent: none.
   */
  readonly clientCapabilities?: Readonly<Record<string, unknown>>;
  /**
   * Told which of the person's own upstream connections the call goes out with (by id, never
   * the credential), for the call's audit record.
   */
  readonly onUpstreamIdentity?: (identity: { connectionId: string; upstreamSubject: string | null }) => void;
}

/** What an upstream may ask a caller during a call (MCP client features). */
export type InputRequestMethod = 'elicitation/create' | 'sampling/createMessage' | 'roots/list';

export interface InputRequest {
  readonly method: InputRequestMethod;
  readonly params: Record<string, unknown>;
  /** The upstream that asks: shown to the person, so its request cannot pass for the gateway's. */
  readonly upstream: string;
  /** A 2026-07-28 upstream's own key for the request, kept for the caller's input_required. */
  readonly key?: string;
}

/** RFC 5424 severities as MCP logging names them, least severe first. */
export const LOG_LEVELS = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const isLogLevel = (v: unknown): v is LogLevel => (LOG_LEVELS as readonly unknown[]).includes(v);

/** A notification relayed to the caller of one call. */
export type CallNotification =
  | { readonly method: 'notifications/progress'; readonly params: Record<string, unknown> }
  | { readonly method: 'notifications/message'; readonly params: Record<string, unknown> };

/** A JSON Schema whose root is an object, as MCP requires for tool schemas. */
export interface ObjectJsonSchema {
  readonly type: 'object';
  readonly [key: string]: unknown;
}

/** An MCP content block: text, or any other block type an upstream returns (image, resource…). */
export type ContentBlock =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: string; readonly [key: string]: unknown };

/** What a tool returns: content for the model, structured data matching its output schema. */
export interface ToolOutput {
  readonly content: readonly ContentBlock[];
  readonly structured?: Record<string, unknown>;
  /** The tool itself reports failure (an upstream's own `isError`). */
  readonly isError?: boolean;
  /** prompts/get (surface.ts): the role of each content block, in order. */
  readonly roles?: readonly ('user' | 'assistant')[];
  /** prompts/get (surface.ts): the prompt result's description, untrusted text like the content. */
  readonly description?: string;
}

/** One problem with arguments or output: where, and what is wrong, in words a model can act on. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly SchemaIssue[] };

/**
 * A tool as the catalogue and the pipeline see it, whether built in (zod schemas, see
 * `defineTool`) or fronted from an upstream server (JSON Schema checked with ajv). Arguments are
 * checked with `checkArgs` before `execute` runs; structured output with `checkOutput` after.
 */
export interface Tool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** The scope a caller needs to see and call this tool. */
  readonly scope: string;
  readonly class: ToolClass;
  readonly labels: readonly ToolLabel[];
  /** The upstream server this tool is fronted from; undefined for built-ins. */
  readonly upstream?: string;
  /** The operator's template of what a call changes, for the approval page (`{arg}` placeholders). */
  readonly approvalText?: string;
  readonly inputSchema: ObjectJsonSchema;
  readonly outputSchema?: ObjectJsonSchema;
  checkArgs(args: unknown): Checked<unknown>;
  checkOutput(structured: Record<string, unknown> | undefined): Checked<Record<string, unknown> | undefined>;
  execute(args: unknown, ctx: ToolContext): Promise<ToolOutput>;
}

/**
 * A failure the caller can fix (a missing note, a refused URL). Its message is written for the
 * model and goes back as an `isError` result; any other exception becomes a generic internal
 * error with a correlation id.
 */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError';
}

/**
 * The call needs a client capability its caller did not declare (2026-07-28 basic/lifecycle,
 * `MissingRequiredClientCapabilityError`): answered as the JSON-RPC error -32021 naming them, so
 * the client can declare them and retry, not as a tool result.
 */
export class MissingCapabilityError extends Error {
  override readonly name = 'MissingCapabilityError';
  constructor(
    message: string,
    readonly requiredCapabilities: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
  ) {
    super(message);
  }
}
