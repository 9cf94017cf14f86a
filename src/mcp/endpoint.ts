import {
  CLIENT_CAPABILITIES_META_KEY,
  createMcpHandler,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import {
  CLIENT_CLOSED_REQUEST,
  insufficientScopeResponse,
  jsonRpcErrorResponse,
  rateLimitedResponse,
  unauthorizedResponse,
} from '../http/responses.js';
import { readJsonBody } from '../http/read-body.js';
import { checkContentType, checkMessage, type Refusal } from './check-request.js';
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

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

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

const refusalResponse = (r: Refusal, id: string | number | null) =>
  jsonRpcErrorResponse(r.status, r.code, r.message, { id });

/** An id the answer may echo: a valid JSON-RPC request id, else null. */
const echoableId = (value: unknown): string | number | null =>
  isObject(value) && (typeof value.id === 'string' || typeof value.id === 'number') ? value.id : null;

const BODY_PROBLEMS = {
  'too-large': [413, -32600, 'Request body too large.'],
  'not-utf8': [400, -32700, 'Parse error: the body is not valid UTF-8.'],
  'not-json': [400, -32700, 'Parse error: the body is not valid JSON.'],
  'too-deep': [400, -32600, 'Invalid request: JSON nested too deeply.'],
  empty: [400, -32600, 'Invalid request: empty body.'],
} as const;

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

    // Shape checks first, before anything with effects: the media type before the body is read,
    // then the message and its headers (check-request.ts), then the session.
    const badType = checkContentType(request.headers);
    if (badType) return refusalResponse(badType, null);
    const body = await readJsonBody(request, { limit: opts.bodyLimitBytes, maxDepth: opts.jsonMaxDepth });
    if (!body.ok) {
      if (body.problem === 'aborted') return clientWentAway(requestId);
      const [status, code, message] = BODY_PROBLEMS[body.problem];
      return jsonRpcErrorResponse(status, code, message);
    }
    const id = echoableId(body.value);
    const checked = checkMessage(request.headers, body.value);
    const session = sessionId ? sessions.find(sessionId, principal) : undefined;

    // tools/call runs through the pipeline here (DESIGN.md), refused or not: every attempt,
    // however malformed, ends with exactly one record.
    let toolCall: ToolCallOutcome | undefined;
    if (isObject(body.value) && body.value.method === 'tools/call') {
      const params = body.value.params;
      const refusal: Refusal | undefined =
        checked.refusal ??
        (sessionId && !session
          ? { status: 404, code: -32001, errorCode: 'session-not-found', message: 'Session not found.' }
          : undefined);
      toolCall = await pipeline.callTool({
        principal,
        meta: meta(body.bytes),
        params,
        ...(refusal ? { refusal } : {}),
        signal: request.signal,
        ...confirmationChannel(
          checked.refusal ? 'legacy' : checked.route,
          isObject(params) ? params : undefined,
          session !== undefined,
        ),
      });
      if (request.signal.aborted) return clientWentAway(requestId);
      switch (toolCall.kind) {
        case 'refused':
          return refusalResponse(toolCall.refusal, id);
        case 'scope-denial':
          return insufficientScopeResponse({
            id,
            scope: toolCall.requiredScope,
            tool: isObject(params) && typeof params.name === 'string' ? params.name : '',
          });
        case 'rate-limited':
          return rateLimitedResponse(toolCall.refusal, id);
        case 'unavailable':
          return jsonRpcErrorResponse(503, -32603, toolCall.message, {
            id,
            headers: { 'retry-after': String(toolCall.retryAfterSeconds) },
          });
        case 'rpc-error':
          // DESIGN.md: an internal failure is HTTP 500, never a 200 carrying -32603.
          if (toolCall.code === -32603) return jsonRpcErrorResponse(500, -32603, toolCall.message, { id });
      }
    }
    // Any other method: refused here, before the SDK (a tools/call was answered above).
    if (checked.refusal) return refusalResponse(checked.refusal, id);
    if (sessionId && !session) return sessionNotFound();
    const { route, message } = checked;

    // A finished 2026-07-28 tools/call needs no SDK server to say so (see frame-tool-call.ts).
    if (
      route === 'modern' &&
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

  /** The client is gone: nothing to answer, nothing to alert on (counted as 499). */
  const clientWentAway = (requestId: string) => {
    logger.debug({ requestId }, 'client went away before the answer');
    return new Response(null, { status: CLIENT_CLOSED_REQUEST });
  };

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
