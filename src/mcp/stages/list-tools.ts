import type { Principal } from '../../auth/index.js';
import type { ListedTool } from '../../tools/index.js';
import type { CallEnv, RequestMeta } from '../context.js';
import { commitRecord, who } from './record.js';

/** tools/list: what the caller's scopes allow, with its record; never answered without it. */
export async function listTools(
  env: CallEnv,
  principal: Principal,
  meta: RequestMeta,
): Promise<ListedTool[]> {
  const started = Date.now();
  const tools = env.deps.catalogue
    .entries()
    // Listing shows what the scopes allow; tool-chain rules apply per call, not to the list.
    .filter((e) => env.decide(principal, e.tool, new Set()).effect !== 'deny')
    .map((e) => e.listed);
  const recorded = await commitRecord(env.deps, {
    correlationId: meta.requestId,
    ...(meta.sessionId ? { sessionId: meta.sessionId } : {}),
    ...who(principal),
    event: 'tools-list',
    decision: 'allow',
    reasons: ['scope-granted'],
    outcome: 'ok',
    latencyMs: Date.now() - started,
    bytesIn: meta.bytesIn,
    bytesOut: 0,
  });
  // Never answered without its record (the SDK turns this into an internal error).
  if (!recorded) throw new Error('the tools/list record could not be committed');
  return tools;
}
