import { CLIENT_CAPABILITIES_META_KEY } from '@modelcontextprotocol/server';
import {
  insufficientScopeResponse,
  JSON_RPC,
  rateLimitedResponse,
  wireErrorResponse,
} from '../../wire/index.js';
import { refusal as refusalOf, type Refusal } from '../check-request.js';
import { given, requestMeta, type RequestStage, type ToolCallRequest } from '../context.js';
import { isCallMethod } from '../protocol.js';
import { clientWentAway, refusalResponse, SESSION_NOT_FOUND } from '../render-http.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The call stage: a tools/call (or resources/read, prompts/get, completion/complete: protocol.ts
 * CALL_METHODS) runs its flow (the call stages) here, before the SDK, refused
 * or not: every attempt, however malformed, ends with exactly one record (DESIGN.md). Outcomes
 * that clients act on at the HTTP level are answered here; the rest are framed further on.
 */
export const callTool: RequestStage = async (ctx, next) => {
  const { request } = ctx;
  const body = given(ctx.body, 'body');
  const checked = given(ctx.checked, 'checked');
  if (!isObject(body.value) || !isCallMethod(body.value.method)) return next();
  const method = body.value.method;
  const params = body.value.params;
  const refusal: Refusal | undefined =
    checked.refusal ??
    (ctx.sessionId && !ctx.session
      ? refusalOf('session-not-found', 'session-not-found', SESSION_NOT_FOUND)
      : undefined);
  const toolCall = await ctx.env.pipeline.callTool({
    principal: given(ctx.principal, 'principal'),
    meta: requestMeta(ctx, body.bytes),
    method,
    params,
    ...(refusal ? { refusal } : {}),
    signal: request.signal,
    ...confirmationChannel(
      checked.refusal ? 'legacy' : checked.route,
      isObject(params) ? params : undefined,
      ctx.session !== undefined,
    ),
  });
  ctx.toolCall = toolCall;
  if (request.signal.aborted) return clientWentAway(ctx.env.logger, ctx.requestId);
  const { id } = ctx;
  switch (toolCall.kind) {
    case 'refused':
      return refusalResponse(toolCall.refusal, id);
    case 'scope-denial':
      return insufficientScopeResponse({
        id,
        scope: toolCall.requiredScope,
        tool: isObject(params) && typeof params.name === 'string' ? params.name : method,
      });
    case 'rate-limited':
      return rateLimitedResponse(toolCall.refusal, id);
    case 'unavailable':
      return wireErrorResponse('audit-unavailable', toolCall.message, {
        id,
        headers: { 'retry-after': String(toolCall.retryAfterSeconds) },
      });
    case 'rpc-error':
      // DESIGN.md: an internal failure is HTTP 500, never a 200 carrying -32603.
      if (toolCall.code === JSON_RPC.internalError)
        return wireErrorResponse('internal', toolCall.message, { id });
  }
  return next();
};

/**
 * How a client can be asked to confirm a call. 2026-07-28: by an input-required round trip, if
 * its per-request capabilities declare elicitation, form or URL mode (the retry's echoed
 * `requestState` and `inputResponses` are handed on). 2025: by elicitation on its stateful
 * session (sessions exist only for clients that declared elicitation). Anyone else: the
 * approval page.
 */
export function confirmationChannel(
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
