import { decide } from '../policy/index.js';
import { globToRegExp } from '../glob/index.js';
import { createConfirmStage } from '../approvals/index.js';
import type { CallSummary, CallTracer } from '../telemetry/index.js';
import {
  startCall,
  type CallContext,
  type CallEnv,
  type CallStage,
  type McpPipeline,
  type PipelineDeps,
  type RequestContext,
  type RequestStage,
  type Stage,
  type ToolCallOutcome,
} from './context.js';
import { answer } from './stages/answer.js';
import { auditIntent } from './stages/audit-intent.js';
import { authenticateCredential, authenticateRequest } from './stages/authenticate.js';
import { callTool } from './stages/call-tool.js';
import { checkListen } from './stages/check-listen.js';
import { checkMediaType } from './stages/check-media-type.js';
import { checkRequestMessage } from './stages/check-message.js';
import { checkOutput } from './stages/check-output.js';
import { checkShape } from './stages/check-shape.js';
import { confirm } from './stages/confirm.js';
import { decideCall } from './stages/decide.js';
import { execute } from './stages/execute.js';
import { fail } from './stages/finish.js';
import { commitRecord, who } from './stages/record.js';
import { findSession } from './stages/find-session.js';
import { frameModern } from './stages/frame-modern.js';
import { handToSdk } from './stages/hand-to-sdk.js';
import { listTools } from './stages/list-tools.js';
import { listPrompts, listResources, listResourceTemplates } from './stages/list-surface.js';
import { quarantine } from './stages/quarantine.js';
import { rateLimit } from './stages/rate-limit.js';
import { readCall } from './stages/read-call.js';
import { readMessage } from './stages/read-message.js';
import { recordTaintStage } from './stages/record-taint.js';
import { refuseRequest } from './stages/refuse-request.js';
import { resolveTool } from './stages/resolve-tool.js';
import { secureOutput } from './stages/secure-output.js';
import { serveStream } from './stages/serve-stream.js';
import { subscribe } from './stages/subscribe.js';
import { takeRefusal } from './stages/take-refusal.js';
import { validate } from './stages/validate.js';

/**
 * The life of a request to /mcp, declared once. Each row is one stage (a file in stages/): it
 * does its part and hands on with `next()`, or ends the request. DESIGN.md walks one call.
 */

/** Every request to /mcp, in this order (the HTTP half). */
export const REQUEST_STAGES = [
  ['authenticate', authenticateRequest], //   every request, before the body is read: 401 / 429
  ['serve stream', serveStream], //           GET and DELETE: to the SDK or the session
  ['check media type', checkMediaType], //    415 before the body is read
  ['read message', readMessage], //           byte cap, UTF-8, depth, parse: 413 / 400
  ['check message', checkRequestMessage], //  one message, SDK classification, era headers
  ['find session', findSession], //           Mcp-Session-Id bound to the credential
  ['call', callTool], //                      tools/call, resources/read, prompts/get, completion/complete:
  //                                             the CALL_STAGES flow; HTTP-level answers
  ['refuse request', refuseRequest], //       any other method refused by shape or session
  ['check listen', checkListen], //           2026-07-28 subscriptions/listen: only readable resources
  ['frame modern', frameModern], //           a finished 2026-07-28 tools/call: framed without the SDK
  ['hand to SDK', handToSdk], //              everything else: the SDK (or the session) speaks MCP
] as const satisfies readonly Row<RequestStage>[];

/**
 * One call: a tools/call, or an upstream's resource read, prompt get or completion (each an
 * operation of its surface, tools/surface.ts, under exactly the same stages). Every exit, refused
 * or run, ends in `finish()` (stages/finish.ts): the call's one audit record is committed, then
 * the answer is given.
 */
export const CALL_STAGES = [
  ['read call', readCall], //                 parse params, look up the tool, describe the arguments
  ['take refusal', takeRefusal], //           refused by the HTTP layer (headers, session)
  ['check shape', checkShape], //             name, arguments, I-JSON: -32602
  ['rate limit', rateLimit], //               every tier; holds the concurrency slot to the end
  ['resolve tool', resolveTool], //           unknown tool: -32602
  ['decide', decideCall], //                  scopes, tool-chain rules, pins: 403 or in-band denial
  ['validate', validate], //                  the tool's strict schema: in-band
  ['confirm', confirm], //                    a `confirm` decision: a person answers
  ['audit intent', auditIntent], //           write / destructive: intent committed before it runs
  ['execute', execute], //                    the tool runs
  ['check output', checkOutput], //           the tool's own output schema
  ['secure output', secureOutput], //         detect, sanitise, redact, wrap
  ['quarantine', quarantine], //              a withheld result is stored for review
  ['record taint', recordTaintStage], //      the result's labels count from now on
  ['finish', answer], //                      the secured result is the answer
] as const satisfies readonly Row<CallStage>[];

type Row<S> = readonly [name: string, stage: S];

/**
 * Runs a flow: each stage gets the context and `next`, the rest of the flow. `onError` turns an
 * exception in a stage into its end (the call's record); without it, exceptions propagate.
 * `observe`, when given, is told when each stage begins and returns the function that ends it:
 * a stage ends when it hands on or returns, whichever comes first (telemetry's stage spans).
 */
export function runStages<C, R>(
  rows: readonly Row<Stage<C, R>>[],
  ctx: C,
  onError?: (ctx: C, err: unknown) => Promise<R>,
  observe?: (stage: string) => () => void,
): Promise<R> {
  // Not an async function: a stage's promise is handed back as it is, not awaited and wrapped
  // in another (26 stages a call; an async wrapper and its await each cost a promise and a
  // microtask turn). A stage that throws instead of rejecting is turned into a rejection.
  const fail = onError && ((err: unknown) => onError(ctx, err));
  const dispatch = (i: number): Promise<R> => {
    const row = rows[i];
    if (!row)
      return Promise.reject(
        new Error('pipeline: the last stage handed on; a flow must end in a terminal stage'),
      );
    const stop = observe?.(row[0]);
    const next = stop ? () => (stop(), dispatch(i + 1)) : () => dispatch(i + 1);
    let result: Promise<R>;
    try {
      result = Promise.resolve(row[1](ctx, next));
    } catch (err) {
      // The stage's own throw, passed on as it was thrown (the flow's onError takes unknown).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      result = Promise.reject(err);
    }
    if (fail) result = result.then(undefined, fail);
    return stop ? result.finally(stop) : result;
  };
  return dispatch(0);
}

/**
 * What telemetry may know of a finished call (telemetry/call-tracer.ts): taken from its record,
 * field by field, never the arguments. A resource's target is its URI, chosen by the caller and
 * able to carry data, so it is left out, as is a name nothing in the catalogue answered to.
 */
function summarise(ctx: CallContext): CallSummary {
  const record = ctx.record;
  const target = ctx.method === 'resources/read' ? undefined : ctx.tool?.name;
  return {
    method: ctx.method,
    correlationId: ctx.req.meta.requestId,
    ...(target !== undefined ? { target } : {}),
    ...(ctx.tool?.upstream !== undefined ? { upstream: ctx.tool.upstream } : {}),
    ...(ctx.tool ? { toolClass: ctx.tool.class } : {}),
    decision: record?.decision ?? 'error',
    outcome: record?.outcome ?? 'failed',
    reasons: [...ctx.reasons],
    ...(record?.errorCode !== undefined ? { errorCode: record.errorCode } : {}),
    latencyMs: record?.latencyMs ?? Date.now() - ctx.started,
  };
}

/** One call through CALL_STAGES, traced: the trace ends with the call (after a 2025 resume). */
function traceCall(tracer: CallTracer, ctx: CallContext): Promise<ToolCallOutcome> {
  const trace = tracer.begin(ctx.method);
  const ended = (outcome: ToolCallOutcome): ToolCallOutcome => {
    if (outcome.kind === 'elicit')
      return { ...outcome, resume: async (answer, hooks) => ended(await outcome.resume(answer, hooks)) };
    trace.end(summarise(ctx));
    return outcome;
  };
  return runStages(CALL_STAGES, ctx, fail, (stage) => trace.stage(stage)).then(ended, (err: unknown) => {
    trace.end(summarise(ctx));
    throw err;
  });
}

/** Runs one request to /mcp through REQUEST_STAGES. */
export function handleRequest(ctx: RequestContext): Promise<Response> {
  return runStages(REQUEST_STAGES, ctx);
}

export function createMcpPipeline(deps: PipelineDeps): McpPipeline {
  const env: CallEnv = {
    deps,
    fullPayload: deps.fullPayloadTools.map(globToRegExp),
    confirm: createConfirmStage(deps.confirm),
    // The catalogue is the pin control: an upstream tool is in it only once its definition is
    // approved (src/pins), so here it is `approved`. decide()'s pin rule serves `policy
    // explain`, which also reports on tools still pending.
    decide: (principal, tool, taint) =>
      decide({
        policy: deps.policy,
        scopes: principal.scopes,
        tool,
        taint,
        pinState: tool.upstream ? 'approved' : 'built-in',
        actsFor: principal.clientCredentials ? 'client' : 'person',
        now: deps.now(),
      }),
  };
  return {
    authenticate: (input, meta) => authenticateCredential(deps, input, meta),
    listTools: (principal, meta) => listTools(env, principal, meta),
    listPrompts: (principal, meta) => listPrompts(env, principal, meta),
    listResourceTemplates: (principal, meta) => listResourceTemplates(env, principal, meta),
    listResources: (principal, meta, cursor, signal) => listResources(env, principal, meta, cursor, signal),
    subscribe: (principal, meta, uri, action, relay) => subscribe(env, principal, meta, uri, action, relay),
    recordRound: (principal, meta, target, found, started) =>
      commitRecord(deps, {
        correlationId: meta.requestId,
        ...who(principal),
        event: 'tool-call',
        ...(target !== undefined ? { tool: target.toWellFormed() } : {}),
        decision: found ? 'allow' : 'deny',
        reasons: [found ? 'input-relayed' : 'params-malformed'],
        outcome: found ? 'ok' : 'invalid',
        latencyMs: Date.now() - started,
        bytesIn: meta.bytesIn,
        bytesOut: 0,
      }),
    callTool(req): Promise<ToolCallOutcome> {
      const ctx = startCall(env, req);
      return deps.tracer ? traceCall(deps.tracer, ctx) : runStages(CALL_STAGES, ctx, fail);
    },
  };
}

export { who } from './stages/record.js';
