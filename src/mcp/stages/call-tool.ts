import { CLIENT_CAPABILITIES_META_KEY, LOG_LEVEL_META_KEY } from '@modelcontextprotocol/server';
import {
  insufficientScopeResponse,
  JSON_RPC,
  rateLimitedResponse,
  wireErrorResponse,
} from '../../wire/index.js';
import { refusal as refusalOf, type Refusal } from '../check-request.js';
import type { Principal } from '../../auth/index.js';
import { given, requestMeta, type RequestStage, type ToolCallRequest } from '../context.js';
import { PARKED_STATE_PREFIX, stepOutcome } from '../park-call.js';
import { isCallMethod } from '../protocol.js';
import { isLogLevel } from '../../tools/index.js';
import { createCallRelay, type CallRelay } from '../relay.js';
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
  const era = checked.refusal ? 'legacy' : checked.route;
  const principal = given(ctx.principal, 'principal');
  const target = isObject(params) ? targetName(method, params) : undefined;
  // A 2026-07-28 retry that answers an upstream's questions goes back to its parked call.
  if (!refusal && era === 'modern' && isObject(params) && typeof params.requestState === 'string') {
    const state = params.requestState;
    if (state.startsWith(PARKED_STATE_PREFIX))
      return resumeParked(ctx, next, state, principal, target, params);
  }
  const relayed = relayOf(ctx, era, isObject(params) ? params : undefined);
  // Only a call that can stream learns when its upstream target starts (most calls cannot).
  let onRun: (() => void) | undefined;
  const started = relayed && new Promise<'running'>((resolve) => (onRun = () => resolve('running')));
  const call = ctx.env.pipeline.callTool({
    principal,
    meta: requestMeta(ctx, body.bytes),
    method,
    params,
    ...(refusal ? { refusal } : {}),
    signal: request.signal,
    ...confirmationChannel(era, isObject(params) ? params : undefined, ctx.session !== undefined),
    ...(relayed ? { ...relayed.request, onRun } : {}),
  });
  // A call whose upstream target has started may stream its notifications: the answer is then
  // given by the SDK on the request's stream (an internal failure from here is in-band -32603,
  // as the status is sent). Everything decided before that keeps its HTTP-level answer.
  const first = started ? await Promise.race([call, started]) : await call;
  if (first === 'running') {
    ctx.running = {
      outcome: call.finally(() => relayed!.relay.close()),
      relay: relayed!.relay,
      era,
      binding: principal.binding,
      target: target ?? '',
      caps: declaredCapabilities(isObject(params) ? params : undefined),
    };
    return next();
  }
  relayed?.relay.close();
  const toolCall = first;
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

/**
 * Whether this caller can receive the call's notifications, and what it asked for: 2026-07-28
 * asks per request (`_meta.progressToken`, the log-level `_meta` key; nothing asked, nothing
 * sent); 2025 traffic always has the POST's event stream, at the session's `logging/setLevel`
 * level or `info`.
 */
function relayOf(
  ctx: Parameters<RequestStage>[0],
  era: 'modern' | 'legacy',
  params: Record<string, unknown> | undefined,
):
  | {
      relay: CallRelay;
      request: Pick<
        ToolCallRequest,
        'notify' | 'requestInput' | 'progressToken' | 'logLevel' | 'clientCapabilities'
      >;
    }
  | undefined {
  const meta = isObject(params?._meta) ? params._meta : {};
  const token = meta.progressToken;
  const progressToken = typeof token === 'string' || typeof token === 'number' ? token : undefined;
  const asked = meta[LOG_LEVEL_META_KEY];
  const logLevel =
    era === 'modern' ? (isLogLevel(asked) ? asked : undefined) : (ctx.session?.logLevel ?? 'info');
  // 2026-07-28 callers that can answer questions get an upstream's relayed (park-call.ts).
  const answers = era === 'modern' && Object.keys(declaredCapabilities(params)).length > 0;
  if (progressToken === undefined && logLevel === undefined && !answers) return undefined;
  const relay = createCallRelay(ctx.env.redact);
  // What the caller can answer: its request's own declaration (2026-07-28), or its session's from
  // initialize (2025); without a session a 2025 caller cannot be asked anything.
  const clientCapabilities =
    era === 'modern'
      ? declaredCapabilities(params)
      : ctx.session
        ? clientFeatures(ctx.session.clientCapabilities())
        : {};
  return {
    relay,
    request: {
      notify: relay.notify,
      requestInput: relay.requestInput,
      clientCapabilities,
      ...(progressToken !== undefined ? { progressToken } : {}),
      ...(logLevel ? { logLevel } : {}),
    },
  };
}

/** What a call's record names as its target, for binding a parked call to its retry. */
function targetName(method: string, params: Record<string, unknown>): string | undefined {
  const v =
    method === 'resources/read' ? params.uri : method === 'completion/complete' ? undefined : params.name;
  return typeof v === 'string' ? v : undefined;
}

/** The client features a 2026-07-28 request declares it can serve (elicitation, sampling, roots). */
function declaredCapabilities(params: Record<string, unknown> | undefined): Record<string, unknown> {
  const meta = isObject(params?._meta) ? params._meta : {};
  return clientFeatures(meta[CLIENT_CAPABILITIES_META_KEY]);
}

/** The client features among declared capabilities (elicitation, sampling, roots). */
function clientFeatures(caps: unknown): Record<string, unknown> {
  if (!isObject(caps)) return {};
  return Object.fromEntries(
    (['elicitation', 'sampling', 'roots'] as const).filter((k) => isObject(caps[k])).map((k) => [k, caps[k]]),
  );
}

/**
 * The retry of a parked call: its answers go to the upstream's waiting questions, and the client
 * gets the next step (more questions, or the call's outcome, already recorded by the call).
 * This round is recorded too. A state that is unknown, used, expired or another caller's is
 * invalid params: it never reaches a call.
 */
async function resumeParked(
  ctx: Parameters<RequestStage>[0],
  next: () => Promise<Response>,
  state: string,
  principal: Principal,
  target: string | undefined,
  params: Record<string, unknown>,
): Promise<Response> {
  const started = Date.now();
  const responses = isObject(params.inputResponses) ? params.inputResponses : {};
  const body = given(ctx.body, 'body');
  const meta = requestMeta(ctx, body.bytes);
  // The round is recorded before its answers reach the upstream's questions: while the audit log
  // cannot commit they stay here, and the parked call waits for the retry the 503 invites.
  const found = ctx.env.parked.holds(state, principal.binding, target ?? '');
  const recorded = await ctx.env.pipeline.recordRound(principal, meta, target, found, started);
  const step = recorded
    ? ctx.env.parked.resume(state, principal.binding, target ?? '', responses)
    : undefined;
  if (!recorded)
    return wireErrorResponse('audit-unavailable', 'Service unavailable: the request could not be recorded.', {
      id: ctx.id,
      headers: { 'retry-after': '30' },
    });
  if (!step)
    return wireErrorResponse(
      'invalid-params',
      "Invalid params: the requestState is unknown, expired, already used, or not this caller's.",
      { id: ctx.id },
    );
  ctx.toolCall = stepOutcome(await step);
  return next();
}
