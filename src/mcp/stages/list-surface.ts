import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Principal } from '../../auth/index.js';
import type { RateLimitRefusal } from '../../ratelimit/index.js';
import { JSON_RPC } from '../../wire/index.js';
import {
  ToolInputError,
  type ListedPrompt,
  type ListedResource,
  type ListedResourceTemplate,
} from '../../tools/index.js';
import type { PolicyTool as PolicyToolLike } from '../../policy/index.js';
import type { CallEnv, RequestMeta } from '../context.js';
import { commitRecord, who } from './record.js';

/**
 * prompts/list, resources/templates/list and resources/list: what the caller's scopes allow, each
 * answer with its record (never without it). Prompts and templates are pinned definitions the
 * catalogue holds; resources are data, listed live from each upstream one page at a time.
 */

/** Whether a caller may see something that needs `scope` (tool-chain rules apply per call). */
const visible = (env: CallEnv, principal: Principal, target: PolicyToolLike) =>
  env.decide(principal, target, new Set()).effect !== 'deny';

async function recorded<T>(
  env: CallEnv,
  principal: Principal,
  meta: RequestMeta,
  list: string,
  started: number,
  value: T,
  refused?: RateLimitRefusal,
): Promise<T> {
  const ok = await commitRecord(env.deps, {
    correlationId: meta.requestId,
    ...(meta.sessionId ? { sessionId: meta.sessionId } : {}),
    ...who(principal),
    event: 'surface-list',
    tool: list,
    decision: refused ? 'deny' : 'allow',
    reasons: [refused ? refused.reason : 'scope-granted'],
    outcome: refused ? 'rate-limited' : 'ok',
    ...(refused ? { errorCode: 'rate-limited' } : {}),
    latencyMs: Date.now() - started,
    bytesIn: meta.bytesIn,
    bytesOut: 0,
  });
  if (!ok) throw new Error(`the ${list} record could not be committed`);
  return value;
}

/**
 * Admits a request that reaches an upstream without being a call (a live resources/list page, a
 * relayed subscription) under the caller's limits, the same tiers as a call of `name`: a caller
 * whose budget is spent cannot keep driving the server through them. Resolves to the slot's
 * release, or to the refusal (nothing was sent upstream).
 */
export async function admitUpstreamRequest(
  env: CallEnv,
  principal: Principal,
  meta: RequestMeta,
  name: string,
  upstream: string,
): Promise<{ release: () => void } | { refused: RateLimitRefusal }> {
  const { limits, metrics } = env.deps;
  if (!limits) return { release: () => undefined };
  const admitted = await limits.checkToolCall({
    caller: principal.binding,
    ...(meta.sessionId ? { sessionId: meta.sessionId } : {}),
    tool: name,
    upstream,
  });
  if (admitted.allowed) return { release: admitted.release };
  metrics.recordRateLimitRejection(admitted.tier);
  return { refused: admitted };
}

/** The JSON-RPC error a request refused by the limits gets from inside the SDK's handler. */
export function rateLimitedError(refused: RateLimitRefusal): ProtocolError {
  return new ProtocolError(
    JSON_RPC.rateLimited,
    `Rate limit exceeded (${refused.tier}); retry after ${refused.retryAfterSeconds} s.`,
    { retryAfterSeconds: refused.retryAfterSeconds },
  );
}

export function listPrompts(env: CallEnv, principal: Principal, meta: RequestMeta): Promise<ListedPrompt[]> {
  const started = Date.now();
  const prompts = env.deps.catalogue
    .surfaces()
    .flatMap((s) => s.prompts)
    .filter((p) => visible(env, principal, p.op))
    .map((p) => p.listed);
  return recorded(env, principal, meta, 'prompts/list', started, prompts);
}

export function listResourceTemplates(
  env: CallEnv,
  principal: Principal,
  meta: RequestMeta,
): Promise<ListedResourceTemplate[]> {
  const started = Date.now();
  const templates = env.deps.catalogue
    .surfaces()
    .flatMap((s) => s.resourceTemplates.map((t) => ({ upstream: s.upstream, t })))
    .filter(({ upstream, t }) => visible(env, principal, readTarget(upstream, t.listed.uriTemplate, t.scope)))
    .map(({ t }) => t.listed);
  return recorded(env, principal, meta, 'resources/templates/list', started, templates);
}

/** What the policy sees of a resource when deciding whether it may be listed. */
const readTarget = (upstream: string, uri: string, scope: string): PolicyToolLike => ({
  name: uri,
  scope,
  class: 'read',
  labels: [],
  upstream,
});

/**
 * The cursor of resources/list across upstreams: which upstream the next page comes from and that
 * upstream's own cursor, base64url JSON. Opaque to clients (MCP pagination); a cursor that does
 * not decode to a current upstream is invalid params, never a reason to list from the start.
 */
interface ResourceCursor {
  readonly u: string;
  readonly c?: string;
}

const encodeCursor = (c: ResourceCursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(cursor: string): ResourceCursor {
  try {
    if (cursor.length > 4096) throw new Error('too long');
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      typeof v === 'object' &&
      v !== null &&
      typeof (v as ResourceCursor).u === 'string' &&
      ((v as ResourceCursor).c === undefined || typeof (v as ResourceCursor).c === 'string')
    )
      return v as ResourceCursor;
  } catch {
    // fall through
  }
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid params: unknown cursor.');
}

/** The record of a listing about to hand a caller's cursor to its upstream (outcome pending). */
async function relayRecord(env: CallEnv, principal: Principal, meta: RequestMeta, started: number) {
  const ok = await commitRecord(env.deps, {
    correlationId: meta.requestId,
    ...(meta.sessionId ? { sessionId: meta.sessionId } : {}),
    ...who(principal),
    event: 'surface-list',
    tool: 'resources/list',
    decision: 'allow',
    reasons: ['input-relayed'],
    outcome: 'pending',
    latencyMs: Date.now() - started,
    bytesIn: meta.bytesIn,
    bytesOut: 0,
  });
  if (!ok) throw new Error('the resources/list record could not be committed; the cursor was not relayed');
}

export async function listResources(
  env: CallEnv,
  principal: Principal,
  meta: RequestMeta,
  cursor: string | undefined,
  signal: AbortSignal,
): Promise<{ resources: ListedResource[]; nextCursor?: string }> {
  const started = Date.now();
  const upstreams = env.deps.catalogue.surfaces().filter((s) => s.resources);
  const at = cursor === undefined ? undefined : decodeCursor(cursor);
  const index = at === undefined ? 0 : upstreams.findIndex((s) => s.upstream === at.u);
  if (index < 0) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid params: unknown cursor.');
  const surface = upstreams[index];
  if (!surface?.resources)
    return recorded(env, principal, meta, 'resources/list', started, { resources: [] });

  const admitted = await admitUpstreamRequest(env, principal, meta, 'resources/list', surface.upstream);
  if ('refused' in admitted) {
    await recorded(env, principal, meta, 'resources/list', started, undefined, admitted.refused);
    throw rateLimitedError(admitted.refused);
  }
  let page;
  try {
    // The inner cursor is the caller's to choose (any string in the base64url JSON), and it is
    // handed to the upstream: data leaving the gateway, so its record is committed first, as a
    // tool's intent is (stages/audit-intent.ts). While the audit log cannot commit it stays here.
    if (at?.c !== undefined) await relayRecord(env, principal, meta, started);
    page = await surface.resources.list(at?.c, { principal, requestId: meta.requestId, signal });
  } catch (err) {
    if (err instanceof ToolInputError) throw new ProtocolError(ProtocolErrorCode.InternalError, err.message);
    throw err;
  } finally {
    admitted.release();
  }
  const shown = page.resources
    .filter((r) => visible(env, principal, readTarget(surface.upstream, r.uri, r.scope)))
    .map(({ scope: _scope, ...r }) => r);
  const next: ResourceCursor | undefined = page.nextCursor
    ? { u: surface.upstream, c: page.nextCursor }
    : upstreams[index + 1]
      ? { u: upstreams[index + 1]!.upstream }
      : undefined;
  return recorded(env, principal, meta, 'resources/list', started, {
    resources: secureListing(env, surface.upstream, shown),
    ...(next ? { nextCursor: encodeCursor(next) } : {}),
  });
}

/**
 * Names and descriptions of listed resources are the upstream's text, read by a model: sanitised
 * and redacted like any output; if the detector finds instructions among them, every title and
 * description of the page is withheld (the URIs and names still list what there is).
 */
function secureListing(env: CallEnv, upstream: string, items: ListedResource[]): ListedResource[] {
  if (items.length === 0) return items;
  const secured = env.deps.output.secure(
    { name: `${upstream}:resources/list`, labels: [] },
    { content: [], structuredContent: { items } },
  );
  const out = (secured.result.structuredContent?.items ?? []) as ListedResource[];
  if (!secured.injection) return out;
  env.deps.logger.warn(
    { alert: 'listing-injection', upstream, rules: secured.injection.findings.map((f) => f.rule) },
    'resource listing carried suspected instructions; descriptions withheld',
  );
  return out.map(({ title: _t, description: _d, ...r }) => r);
}
