import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Principal } from '../../auth/index.js';
import type { CallEnv, RequestMeta } from '../context.js';
import { resolveTarget } from '../resolve-target.js';
import { admitUpstreamRequest, rateLimitedError } from './list-surface.js';
import { commitRecord, who } from './record.js';

/**
 * resources/subscribe and unsubscribe (2025 sessions) and the resource URIs of a 2026-07-28
 * subscriptions/listen: a caller may subscribe only to what it may read, so update
 * notifications never tell anyone about a resource they could not read. An unknown URI and a
 * URI the caller may not read get the same answer. The upstream is asked to subscribe when it
 * offers subscriptions; each subscription is recorded. `relay` is false when the subscriber
 * already holds (subscribe) or never held (unsubscribe) the subscription: the upstream's
 * subscription is shared and counted, so only a change of this subscriber's own reaches it.
 */
export async function subscribe(
  env: CallEnv,
  principal: Principal,
  meta: RequestMeta,
  uri: string,
  action: 'subscribe' | 'unsubscribe',
  relay = true,
): Promise<void> {
  const started = Date.now();
  const op = resolveTarget(env.deps.catalogue, 'resources/read', uri, { uri });
  const allowed = op !== undefined && env.decide(principal, op, new Set()).effect !== 'deny';
  const resources = allowed && op.upstream ? env.deps.catalogue.surface(op.upstream)?.resources : undefined;
  const upstream = action === 'subscribe' ? resources?.subscribe : resources?.unsubscribe;
  // A subscription reaches the server: it counts against the caller's limits like a read (an
  // unsubscribe only lightens the server's load, and is never held back).
  const admitted =
    allowed && upstream && relay && action === 'subscribe'
      ? await admitUpstreamRequest(env, principal, meta, 'resources/subscribe', op.upstream!)
      : undefined;
  const refused = admitted && 'refused' in admitted ? admitted.refused : undefined;
  const ok = await commitRecord(env.deps, {
    correlationId: meta.requestId,
    ...(meta.sessionId ? { sessionId: meta.sessionId } : {}),
    ...who(principal),
    event: 'resource-subscribe',
    tool: uri.toWellFormed(),
    ...(op?.upstream ? { upstream: op.upstream, scope: op.scope } : {}),
    decision: allowed && !refused ? 'allow' : 'deny',
    reasons: [refused ? refused.reason : allowed ? 'scope-granted' : 'unknown-tool'],
    outcome: refused ? 'rate-limited' : allowed ? 'ok' : 'invalid',
    ...(refused ? { errorCode: 'rate-limited' } : {}),
    latencyMs: Date.now() - started,
    bytesIn: meta.bytesIn,
    bytesOut: 0,
  });
  try {
    if (!ok)
      throw new ProtocolError(
        ProtocolErrorCode.InternalError,
        'Internal error: the request could not be recorded.',
      );
    if (!allowed) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Resource not found: ${uri}.`);
    if (refused) throw rateLimitedError(refused);
    if (!upstream) {
      if (action === 'subscribe')
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Resource ${uri} does not offer update notifications.`,
        );
      return;
    }
    if (relay) await upstream(uri);
  } finally {
    if (admitted && 'release' in admitted) admitted.release();
  }
}
