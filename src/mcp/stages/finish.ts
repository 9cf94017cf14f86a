import type { AuditEntry } from '../../audit/index.js';
import {
  internalError,
  unavailable,
  type CallContext,
  type Ending,
  type ToolCallOutcome,
} from '../context.js';
import type { CallMethod } from '../protocol.js';
import { commitRecord, who } from './record.js';

/** The record's event for each call method. */
const CALL_EVENT = {
  'tools/call': 'tool-call',
  'resources/read': 'resource-read',
  'prompts/get': 'prompt-get',
  'completion/complete': 'completion',
} as const satisfies Record<CallMethod, AuditEntry['event']>;

/** The call's audit record as it stands, with what its end adds. */
export function callEntry(
  ctx: CallContext,
  over: Partial<AuditEntry> & Pick<AuditEntry, 'decision' | 'outcome'>,
  bytesOut = 0,
): AuditEntry {
  const { meta, principal } = ctx.req;
  return {
    correlationId: meta.requestId,
    ...(meta.sessionId ? { sessionId: meta.sessionId } : {}),
    ...who(principal),
    event: CALL_EVENT[ctx.method],
    ...(ctx.name !== undefined ? { tool: ctx.name.toWellFormed() } : {}),
    ...(ctx.tool?.upstream ? { upstream: ctx.tool.upstream } : {}),
    ...(ctx.upstreamIdentity ? { connectionId: ctx.upstreamIdentity.connectionId } : {}),
    ...(ctx.upstreamIdentity?.upstreamSubject
      ? { upstreamSubject: ctx.upstreamIdentity.upstreamSubject }
      : {}),
    ...(ctx.tool ? { scope: ctx.tool.scope } : {}),
    ...(ctx.described ? { args: ctx.described } : {}),
    reasons: [...ctx.reasons],
    latencyMs: Date.now() - ctx.started,
    bytesIn: meta.bytesIn,
    bytesOut,
    ...over,
  };
}

/**
 * The one way out of a call: writes its one record, then answers. The answer is given only if
 * the record committed; otherwise 503 (a retry is safe: nothing with effects ran) or, once a
 * tool may have acted, 500 (its intent record stands).
 */
export async function finish(ctx: CallContext, end: Ending): Promise<ToolCallOutcome> {
  const { req, reasons, env } = ctx;
  const { meta, principal } = req;
  if (ctx.concluded) {
    env.deps.logger.error({ requestId: meta.requestId, tool: ctx.name }, 'a tool call tried to end twice');
    return internalError(meta.requestId);
  }
  const gone = req.signal.aborted;
  if (gone) reasons.push('client-disconnected');
  const errorCode = gone && end.outcome !== 'ok' ? 'client-disconnected' : end.errorCode;
  const final = callEntry(
    ctx,
    { decision: end.decision, outcome: end.outcome, ...(errorCode ? { errorCode } : {}) },
    end.bytesOut,
  );
  ctx.concluded = true;
  ctx.record = final;
  const ok = await commitRecord(env.deps, final);
  env.deps.alerts.observe({
    at: Date.now(),
    credentialId: principal.credentialId,
    ...(meta.sessionId ? { sessionId: meta.sessionId } : {}),
    principal: principal.subject,
    tool: ctx.name ?? '',
    labels: ctx.tool?.labels ?? [],
    outcome: end.outcome,
  });
  if (ok) return end.answer;
  return ctx.effectful ? internalError(meta.requestId) : unavailable(meta.requestId);
}

/** An exception in any stage still ends the call through `finish`. */
export function fail(ctx: CallContext, err: unknown): Promise<ToolCallOutcome> {
  if (ctx.concluded) throw err;
  ctx.env.deps.logger.error({ err, requestId: ctx.req.meta.requestId, tool: ctx.name }, 'tool call failed');
  ctx.reasons.push('internal-error');
  return finish(ctx, {
    decision: 'error',
    outcome: 'failed',
    errorCode: 'internal',
    answer: internalError(ctx.req.meta.requestId),
  });
}
