import type { AuditLog } from './audit-log.js';
import type { AuditEntry, AuditRecord } from './record.js';
import type { AuditStore } from './store.js';

/** What is known of the side effect of a call that was interrupted after its intent. */
export type EffectState = 'committed' | 'not-committed' | 'unknown';

/**
 * The start-up recovery pass. A `tool-intent` is committed before a tool with side effects
 * runs; its `tool-call` record follows when the call ends. An intent still open when the
 * gateway starts belongs to a call a previous process never finished (killed, crashed, or its
 * outcome could not be written): each gets its `tool-call` record now, outcome `interrupted`,
 * `errorCode` `effect-committed` / `effect-not-committed` / `effect-unknown` as `effectOf`
 * tells (a built-in tool's write journal knows; an upstream's effect is unknown).
 *
 * Run it before the gateway serves: a call in flight would look interrupted too.
 */
export async function closeInterruptedCalls(deps: {
  readonly log: AuditLog;
  readonly store: AuditStore;
  readonly effectOf: (intent: AuditRecord) => Promise<EffectState>;
}): Promise<number> {
  const open = await deps.store.openIntents();
  for (const intent of open) {
    const state = await deps.effectOf(intent);
    await deps.log.append(closingEntry(intent, state));
  }
  return open.length;
}

/** The intent's own fields (an erased intent lends no personal values), closed as interrupted. */
function closingEntry(intent: AuditRecord, state: EffectState): AuditEntry {
  const personal = {
    ...(intent.sessionId !== undefined ? { sessionId: intent.sessionId } : {}),
    ...(intent.principal !== undefined ? { principal: intent.principal } : {}),
    ...(intent.tenant !== undefined ? { tenant: intent.tenant } : {}),
    ...(intent.clientId !== undefined ? { clientId: intent.clientId } : {}),
    ...(intent.credentialId !== undefined ? { credentialId: intent.credentialId } : {}),
    ...(intent.args !== undefined ? { args: intent.args } : {}),
  };
  return {
    correlationId: intent.correlationId,
    ...personal,
    ...(intent.authMethod !== undefined ? { authMethod: intent.authMethod } : {}),
    event: 'tool-call',
    ...(intent.tool !== undefined ? { tool: intent.tool } : {}),
    ...(intent.upstream !== undefined ? { upstream: intent.upstream } : {}),
    ...(intent.scope !== undefined ? { scope: intent.scope } : {}),
    decision: intent.decision,
    reasons: [...intent.reasons, 'interrupted'],
    outcome: 'interrupted',
    errorCode: `effect-${state}`,
    latencyMs: 0,
    bytesIn: intent.bytesIn,
    bytesOut: 0,
  };
}
