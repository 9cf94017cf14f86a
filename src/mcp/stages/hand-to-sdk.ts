import { wireErrorResponse } from '../../wire/index.js';
import { given, requestMeta, type RequestStage } from '../context.js';
import { METHOD } from '../protocol.js';
import { toAuthInfo } from '../request-state.js';
import { withHeaders } from '../render-http.js';
import type { InitializeParams } from '../sessions.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON-RPC response or error (the client answering a request of the server). */
const isAnswer = (v: unknown): boolean =>
  isObject(v) && !('method' in v) && 'id' in v && ('result' in v || 'error' in v);

/**
 * The parts of an initialize a session keeps (and another replica replays), when they have the
 * shape the spec gives them; anything else goes to the SDK's stateless handler, which refuses it.
 */
function initializeParams(params: Record<string, unknown> | undefined): InitializeParams | undefined {
  if (!params || typeof params.protocolVersion !== 'string' || !isObject(params.capabilities))
    return undefined;
  const info = params.clientInfo;
  if (!isObject(info) || typeof info.name !== 'string' || typeof info.version !== 'string') return undefined;
  return {
    protocolVersion: params.protocolVersion,
    capabilities: params.capabilities,
    clientInfo: info as InitializeParams['clientInfo'],
  };
}

/**
 * The hand-to-sdk stage: the SDK speaks the negotiated revision, reading the parsed body and,
 * for a tools/call, only framing the outcome the pipeline finished (request-state.ts). 2025
 * clients whose initialize declares elicitation get a stateful session bound to their credential.
 */
export const handToSdk: RequestStage = async (ctx) => {
  const { env, request, toolCall, session, running } = ctx;
  const body = given(ctx.body, 'body');
  const checked = given(ctx.checked, 'checked');
  if (checked.refusal) throw new Error('pipeline stage order: a refused request reached the SDK');
  const principal = given(ctx.principal, 'principal');
  const parsedBody = body.value;
  // The body was consumed above; the SDK reads the parsed value instead.
  const forward = new Request(request.url, {
    method: 'POST',
    headers: request.headers,
    signal: request.signal,
  });
  const authInfo = toAuthInfo({
    principal,
    meta: requestMeta(ctx, body.bytes),
    ...(toolCall ? { toolCall } : {}),
    ...(running ? { running } : {}),
  });
  const extraHeaders = toolCall?.kind === 'result' ? toolCall.headers : undefined;

  // An answer to a question this replica did not ask (no session affinity at the balancer): the
  // SDK would drop it silently and the asking replica would wait out its timeout. Say so, and
  // have the asking replica cancel the question now.
  if (session && env.sessions.shared && isAnswer(parsedBody) && session.asking.size === 0) {
    await env.sessions.misrouted(session.id);
    return wireErrorResponse(
      'answer-misrouted',
      'This answer reached a gateway replica that did not ask the question, which is now cancelled. ' +
        'Route requests by Mcp-Session-Id (session affinity) at the load balancer.',
      { id: checked.message.id ?? null },
    );
  }
  if (session)
    return withHeaders(
      await session.transport.handleRequest(forward, { authInfo, parsedBody }),
      extraHeaders,
    );

  const { message } = checked;
  const init = message.method === METHOD.initialize ? initializeParams(message.params) : undefined;
  if (init && 'elicitation' in init.capabilities) {
    const opened = await env.sessions.open(principal, init);
    if (!opened.ok) {
      return wireErrorResponse('too-many-sessions', 'Too many open sessions; try again later.', {
        id: message.id ?? null,
      });
    }
    const response = await opened.transport.handleRequest(forward, { authInfo, parsedBody });
    await opened.settle();
    return response;
  }
  return withHeaders(await env.handler.fetch(forward, { authInfo, parsedBody }), extraHeaders);
};
