import type { Logger } from 'pino';
import { authenticate, type AuthInput, type AuthResult, type Principal } from '../auth/index.js';
import { decide, type Decision } from '../policy/index.js';
import type { ApiKeyStore } from '../storage/index.js';
import {
  ToolInputError,
  type Catalogue,
  type ContentBlock,
  type ListedTool,
  type SchemaIssue,
  type Tool,
} from '../tools/index.js';

/**
 * The tool-call pipeline, declared once. Every call to /mcp passes these stages in this order:
 *
 *   authenticate → resolve tool → decide → validate → execute → check output → respond
 *
 * Stages that clients act on at the HTTP level (401, 403 insufficient_scope) answer with an
 * `http-denial`; the rest answer in-band as a tool result or a JSON-RPC error. Rate limiting,
 * sanitising and audit slot in between these stages as they are built.
 */

/** A tool result as MCP's CallToolResult carries it. */
export interface ToolResult {
  readonly [key: string]: unknown;
  readonly content: ContentBlock[];
  readonly structuredContent?: Record<string, unknown>;
  readonly isError?: boolean;
}

export type ToolCallOutcome =
  | { readonly kind: 'result'; readonly result: ToolResult; readonly decision: Decision }
  /** A JSON-RPC error: -32602 for an unknown tool, -32603 for an internal failure. */
  | { readonly kind: 'rpc-error'; readonly code: -32602 | -32603; readonly message: string }
  /** Refused before anything ran; the HTTP layer renders it (403 with a scope challenge). */
  | {
      readonly kind: 'http-denial';
      readonly status: 403;
      readonly requiredScope: string;
      readonly decision: Decision;
    };

export interface ToolCallRequest {
  readonly principal: Principal;
  readonly requestId: string;
  readonly name: string;
  readonly args: unknown;
  readonly signal: AbortSignal;
}

export interface PipelineDeps {
  readonly apiKeys: ApiKeyStore;
  readonly catalogue: Catalogue;
  readonly logger: Logger;
  readonly now: () => Date;
}

export interface McpPipeline {
  authenticate(input: AuthInput): Promise<AuthResult>;
  listTools(principal: Principal): ListedTool[];
  callTool(request: ToolCallRequest): Promise<ToolCallOutcome>;
}

/** Formats validation issues so the model can correct its call: one line per field. */
export function describeInvalidArguments(tool: string, issues: readonly SchemaIssue[]): string {
  const lines = issues.map((issue) => `- ${issue.path}: ${issue.message}`);
  return `Invalid arguments for ${tool}:\n${lines.join('\n')}\nFix these and call ${tool} again.`;
}

const errorResult = (text: string): ToolResult => ({ content: [{ type: 'text', text }], isError: true });

export function createMcpPipeline(deps: PipelineDeps): McpPipeline {
  const { catalogue, logger } = deps;

  const decideFor = (principal: Principal, tool: Tool) =>
    decide({ scopes: principal.scopes, tool, now: deps.now() });

  return {
    authenticate: (input) => authenticate(input, { apiKeys: deps.apiKeys, now: deps.now() }),

    listTools: (principal) =>
      catalogue
        .entries()
        .filter((e) => decideFor(principal, e.tool).effect !== 'deny')
        .map((e) => e.listed),

    async callTool(req) {
      // resolve tool
      const tool = catalogue.get(req.name);
      if (!tool) {
        return {
          kind: 'rpc-error',
          code: -32602,
          message: `Unknown tool: ${req.name}. Call tools/list to see the available tools.`,
        };
      }

      // decide
      const decision = decideFor(req.principal, tool);
      if (decision.effect === 'deny') {
        return {
          kind: 'http-denial',
          status: 403,
          requiredScope: decision.obligations.requiredScope ?? tool.scope,
          decision,
        };
      }

      // validate
      const parsed = tool.checkArgs(req.args ?? {});
      if (!parsed.ok) {
        return {
          kind: 'result',
          result: errorResult(describeInvalidArguments(tool.name, parsed.issues)),
          decision,
        };
      }

      // execute
      let output;
      try {
        output = await tool.execute(parsed.value, {
          principal: req.principal,
          requestId: req.requestId,
          signal: req.signal,
        });
      } catch (err) {
        if (err instanceof ToolInputError)
          return { kind: 'result', result: errorResult(err.message), decision };
        logger.error({ err, requestId: req.requestId, tool: tool.name }, 'tool execution failed');
        return {
          kind: 'rpc-error',
          code: -32603,
          message: `Internal error (correlation id ${req.requestId}).`,
        };
      }

      // check output: a tool that breaks its own output schema is a bug, not the caller's fault
      const checked = tool.checkOutput(output.structured);
      if (!checked.ok) {
        logger.error(
          { requestId: req.requestId, tool: tool.name, issues: checked.issues },
          'tool output failed its schema',
        );
        return {
          kind: 'rpc-error',
          code: -32603,
          message: `Internal error (correlation id ${req.requestId}).`,
        };
      }

      return {
        kind: 'result',
        result: {
          content: [...output.content],
          ...(checked.value ? { structuredContent: checked.value } : {}),
          ...(output.isError ? { isError: true } : {}),
        },
        decision,
      };
    },
  };
}
