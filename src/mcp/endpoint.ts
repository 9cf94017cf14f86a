import {
  CLIENT_CAPABILITIES_META_KEY,
  classifyInboundRequest,
  createMcpHandler,
  SUPPORTED_PROTOCOL_VERSIONS,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import {
  insufficientScopeResponse,
  jsonRpcErrorResponse,
  rateLimitedResponse,
  unauthorizedResponse,
} from '../http/responses.js';
import { readJsonBody } from '../http/read-body.js';
import { frameModernToolCall } from './frame-tool-call.js';
import type { McpPipeline, RequestMeta, ToolCallOutcome, ToolCallRequest } from './pipeline.js';
import { toAuthInfo } from './request-state.js';
import { createServerFactory } from './server-factory.js';
import { createSessionManager, type SessionLimits, type SessionManager } from './sessions.js';

export interface McpEndpointOptions {
  readonly pipeline: McpPipeline;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  readonly jsonMaxDepth: number;
  readonly sessions: SessionLimits;
}

export interface McpEndpoint {
  handle(request: Request, ctx: { requestId: string; ip: string }): Promise<Response>;
  readonly sessions: SessionManager;
  close(): Promise<void>;
}

interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A single JSON-RPC request, notification or response; batches are not part of MCP since 2025-06-18. */
function asJsonRpcMessage(value: unknown): JsonRpcMessage | undefined {
  if (!isObject(value) || value.jsonrpc !== '2.0') return undefined;
  if ('method' in value && typeof value.method !== 'string') return undefined;
  if ('params' in value && value.params !== undefined && !isObject(value.params)) return undefined;
  if ('id' in value && !['string', 'number'].includes(typeof value.id) && value.id !== null) return undefined;
  return value as unknown as JsonRpcMessage;
}

/** Adds headers (RateLimit) to a response the SDK built; its headers may be immutable. */
function withHeaders(response: Response, headers: Record<string, string> | undefined): Response {
  if (!headers || Object.keys(headers).length === 0) return response;
  const merged = new Headers(response.headers);
  for (const [k, v] of Object.entries(headers)) merged.set(k, v);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: merged,
  });
}

/**
 * How a client can be asked to confirm a call. 2026-07-28: by an input-required round trip, if
 * its per-request capabilities declare elicitation, form or URL mode (the retry's echoed
 * `requestState` and `inputResponses` are handed on). 2025: by elicitation on its stateful
 * session (sessions exist only for clients that declared elicitation). Anyone else: the
 * approval page.
 */
function confirmationChannel(
  era: 'modern' | 'legacy',
  params: Record<string, unknown> | undefined,
  inSession: boolean,
): Pick<ToolCallRequest, 'confirmVia' | 'elicits' | 'requestState' | 'inputResponses'> {
  if (era === 'legacy') return { confirmVia: inSession ? 'session' : 'none' };
  const meta = isObject(params?._meta) ? params._meta : {};
  const caps = meta[CLIENT_CAPABILITIES_META_KEY];
  // Form elicitation, as the SDK reads it: `form` declared, or a bare `elicitation: {}`.
  const e = isObject(caps) ? caps.elicitation : undefined;
  const form = isObject(e) && (isObject(e.form) || !('url' in e));
  const url = isObject(e) && isObject(e.url);
  return {
    confirmVia: form || url ? 'input-required' : 'none',
    elicits: { form, url },
    ...(params && 'requestState' in params ? { requestState: params.requestState } : {}),
    ...(isObject(params?.inputResponses) ? { inputResponses: params.inputResponses } : {}),
  };
}

const BODY_PROBLEMS = {
  'too-large': [413, -32600, 'Request body too large.'],
  'not-utf8': [400, -32700, 'Parse error: the body is not valid UTF-8.'],
  'not-json': [400, -32700, 'Parse error: the body is not valid JSON.'],
  'too-deep': [400, -32600, 'Invalid request: JSON nested too deeply.'],
  empty: [400, -32600, 'Invalid request: empty body.'],
} as const;

/**
 * The header checks the SDK's 2025-era transport applies to a POST, made before a tool runs for
 * the same reason as the classification above.
 */
function checkLegacyHeaders(request: Request): { status: number; message: string } | undefined {
  const accept = request.headers.get('accept') ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return {
      status: 406,
      message: 'Not Acceptable: the client must accept both application/json and text/event-stream.',
    };
  }
  const version = request.headers.get('mcp-protocol-version');
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    return { status: 400, message: `Bad Request: unsupported MCP-Protocol-Version ${version}.` };
  }
  return undefined;
}

/**
 * The /mcp endpoint: authenticates every request, runs tools/call through the pipeline, then
 * lets the SDK speak the negotiated protocol revision. 2026-07-28 and stateless 2025 traffic go
 * to the SDK's per-request handler; 2025 clients that declare elicitation get a stateful
 * session bound to their credential.
 */
export function createMcpEndpoint(opts: McpEndpointOptions): McpEndpoint {
  const { pipeline, logger } = opts;
  const factory = createServerFactory(pipeline);
  const onerror = (err: Error) => logger.debug({ err }, 'mcp request rejected by the SDK');
  const handler: McpHttpHandler = createMcpHandler(factory, {
    legacy: 'stateless',
    onerror,
    maxRequestBodySize: opts.bodyLimitBytes,
  });
  const sessions = createSessionManager({ factory, limits: opts.sessions, logger, now: Date.now });

  async function handle(request: Request, ctx: { requestId: string; ip: string }): Promise<Response> {
    const { requestId } = ctx;
    const sessionId = request.headers.get('mcp-session-id') ?? undefined;
    const declaredLength = Number(request.headers.get('content-length') ?? 0);
    const meta = (bytesIn: number): RequestMeta => ({
      requestId,
      ip: ctx.ip,
      ...(sessionId ? { sessionId } : {}),
      bytesIn,
    });

    // authenticate: on every request, before the body is read
    const auth = await pipeline.authenticate(
      { authorization: request.headers.get('authorization') ?? undefined, url: new URL(request.url) },
      meta(Number.isFinite(declaredLength) ? declaredLength : 0),
    );
    if (!auth.ok) {
      if (auth.kind === 'rate-limited') return rateLimitedResponse(auth.refusal, null);
      return unauthorizedResponse({ missing: auth.missing });
    }
    const principal = auth.principal;

    if (request.method !== 'POST') {
      const authInfo = toAuthInfo({ principal, meta: meta(0) });
      if (!sessionId) return handler.fetch(request, { authInfo });
      const session = sessions.find(sessionId, principal);
      return session ? session.transport.handleRequest(request, { authInfo }) : sessionNotFound();
    }

    const body = await readJsonBody(request, { limit: opts.bodyLimitBytes, maxDepth: opts.jsonMaxDepth });
    if (!body.ok) {
      const [status, code, message] = BODY_PROBLEMS[body.problem];
      return jsonRpcErrorResponse(status, code, message);
    }
    if (Array.isArray(body.value)) {
      return jsonRpcErrorResponse(
        400,
        -32600,
        'Invalid request: JSON-RPC batches are not supported; send one message per request.',
      );
    }
    const message = asJsonRpcMessage(body.value);
    if (!message) {
      return jsonRpcErrorResponse(400, -32600, 'Invalid request: not a JSON-RPC 2.0 message.');
    }
    const id = message.id ?? null;

    // The SDK's own classification runs before any tool does, so a request the SDK would
    // reject (bad protocol version header, mismatched Mcp-Method) never has side effects.
    const route = classifyInboundRequest({
      httpMethod: 'POST',
      protocolVersionHeader: request.headers.get('mcp-protocol-version') ?? undefined,
      mcpMethodHeader: request.headers.get('mcp-method') ?? undefined,
      mcpNameHeader: request.headers.get('mcp-name') ?? undefined,
      body: body.value,
    });
    if (route.kind === 'reject') {
      return jsonRpcErrorResponse(route.httpStatus, route.code, route.message, { id });
    }
    if (route.kind === 'legacy') {
      const problem = checkLegacyHeaders(request);
      if (problem) return jsonRpcErrorResponse(problem.status, -32600, problem.message, { id });
    }

    const session = sessionId ? sessions.find(sessionId, principal) : undefined;
    if (sessionId && !session) return sessionNotFound();

    let toolCall: ToolCallOutcome | undefined;
    if (message.method === 'tools/call') {
      const name = message.params?.name;
      const args = message.params?.arguments;
      if (typeof name !== 'string') {
        return jsonRpcErrorResponse(200, -32602, 'Invalid params: tools/call needs a string "name".', { id });
      }
      if (args !== undefined && !isObject(args)) {
        return jsonRpcErrorResponse(
          200,
          -32602,
          'Invalid params: tools/call "arguments" must be an object.',
          { id },
        );
      }
      toolCall = await pipeline.callTool({
        principal,
        meta: meta(body.bytes),
        name,
        args,
        signal: request.signal,
        ...confirmationChannel(route.kind, message.params, session !== undefined),
      });
      if (toolCall.kind === 'scope-denial') {
        return insufficientScopeResponse({ id, scope: toolCall.requiredScope, tool: name });
      }
      if (toolCall.kind === 'rate-limited') return rateLimitedResponse(toolCall.refusal, id);
    }

    // A finished 2026-07-28 tools/call needs no SDK server to say so (see frame-tool-call.ts).
    if (
      route.kind === 'modern' &&
      toolCall &&
      (toolCall.kind === 'result' || toolCall.kind === 'rpc-error' || toolCall.kind === 'input-required')
    ) {
      return withHeaders(
        frameModernToolCall(id, toolCall),
        toolCall.kind === 'result' ? toolCall.headers : undefined,
      );
    }

    const parsedBody = body.value;
    // The body was consumed above; the SDK reads the parsed value instead.
    const forward = new Request(request.url, {
      method: 'POST',
      headers: request.headers,
      signal: request.signal,
    });
    const authInfo = toAuthInfo({ principal, meta: meta(body.bytes), ...(toolCall ? { toolCall } : {}) });
    const extraHeaders = toolCall?.kind === 'result' ? toolCall.headers : undefined;

    if (session)
      return withHeaders(
        await session.transport.handleRequest(forward, { authInfo, parsedBody }),
        extraHeaders,
      );

    if (
      message.method === 'initialize' &&
      isObject(message.params?.capabilities) &&
      'elicitation' in message.params.capabilities
    ) {
      const opened = await sessions.open(principal);
      if (!opened.ok) {
        return jsonRpcErrorResponse(503, -32000, 'Too many open sessions; try again later.', {
          id: message.id ?? null,
        });
      }
      const response = await opened.transport.handleRequest(forward, { authInfo, parsedBody });
      await opened.settle();
      return response;
    }
    return withHeaders(await handler.fetch(forward, { authInfo, parsedBody }), extraHeaders);
  }

  // Unknown, expired and other-credential sessions look the same from outside: 404, which the
  // MCP spec tells clients to answer by initialising a new session.
  const sessionNotFound = () => jsonRpcErrorResponse(404, -32001, 'Session not found.');

  return {
    handle,
    sessions,
    async close() {
      await sessions.close();
      await handler.close();
    },
  };
}
