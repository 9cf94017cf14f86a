import { authenticate, type AuthInput } from '../../auth/index.js';
import { rateLimitedResponse, unauthorizedResponse } from '../../wire/index.js';
import {
  requestMeta,
  type AuthOutcome,
  type PipelineDeps,
  type RequestMeta,
  type RequestStage,
} from '../context.js';
import { HEADER } from '../protocol.js';
import { commitRecord } from './record.js';

/**
 * Authenticates one credential and records a failure (its own `authentication` record). A
 * blocked address is refused before the credential is even looked at.
 */
export async function authenticateCredential(
  deps: PipelineDeps,
  input: AuthInput,
  meta: RequestMeta,
): Promise<AuthOutcome> {
  const { limits, metrics } = deps;
  const stop = metrics.startStage('authenticate');
  const started = Date.now();
  const base = {
    correlationId: meta.requestId,
    ...(meta.sessionId ? { sessionId: meta.sessionId } : {}),
    event: 'authentication' as const,
    authMethod: 'none' as const,
    bytesIn: meta.bytesIn,
    bytesOut: 0,
  };
  try {
    const blocked = await limits?.checkAuthAllowed(meta.ip);
    if (blocked) {
      metrics.recordRateLimitRejection(blocked.tier);
      const ok = await commitRecord(deps, {
        ...base,
        decision: 'deny',
        reasons: [blocked.reason],
        outcome: 'rate-limited',
        latencyMs: Date.now() - started,
      });
      return ok
        ? { ok: false, kind: 'rate-limited', refusal: blocked }
        : { ok: false, kind: 'unauthenticated', missing: false };
    }
    const result = await authenticate(input, {
      apiKeys: deps.apiKeys,
      accessTokens: deps.accessTokens,
      people: deps.people,
      now: deps.now(),
    });
    if (result.ok) return result;
    // A request without any credential is how clients discover that they must log in; only
    // a presented, bad credential counts towards the brute-force limit of its address.
    if (result.reason !== 'credential-missing') await limits?.recordFailedAuth(meta.ip);
    metrics.recordDecision('deny', result.reason);
    await commitRecord(deps, {
      ...base,
      ...(result.credentialId ? { credentialId: result.credentialId } : {}),
      decision: 'deny',
      reasons: [result.reason],
      outcome: 'unauthenticated',
      errorCode: 'invalid-credential',
      latencyMs: Date.now() - started,
    });
    return { ok: false, kind: 'unauthenticated', missing: result.reason === 'credential-missing' };
  } finally {
    stop();
  }
}

/** The authenticate stage: every request, before its body is read. */
export const authenticateRequest: RequestStage = async (ctx, next) => {
  const { request } = ctx;
  const declaredLength = Number(request.headers.get(HEADER.contentLength) ?? 0);
  const auth = await ctx.env.pipeline.authenticate(
    { authorization: request.headers.get(HEADER.authorization) ?? undefined, url: new URL(request.url) },
    requestMeta(ctx, Number.isFinite(declaredLength) ? declaredLength : 0),
  );
  if (!auth.ok) {
    if (auth.kind === 'rate-limited') return rateLimitedResponse(auth.refusal, null);
    return unauthorizedResponse({ missing: auth.missing });
  }
  ctx.principal = auth.principal;
  return next();
};
