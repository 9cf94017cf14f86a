import { Hono } from 'hono';
import {
  AuditQueryError,
  describeArgs,
  parseFilters,
  parseLimit,
  type AuditEntry,
  type AuditLog,
  type AuditQuery,
} from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import { who as identity, type McpPipeline } from '../mcp/index.js';
import { clientAddress } from './client-address.js';
import { HTTP_STATUS, rateLimitedResponse, unauthorizedResponse, wireErrorResponse } from '../wire/index.js';

/** The scope an API key or token needs to read the audit log over HTTP. */
export const AUDIT_READ_SCOPE = 'admin:audit';

/** The query parameters the audit API reads; anything else is ignored and not recorded. */
const QUERY_PARAMS = [
  'principal',
  'since',
  'until',
  'tool',
  'decision',
  'outcome',
  'client',
  'upstream',
  'reason',
  'limit',
] as const;

/**
 * The audit query as an admin API: `GET /admin/audit?principal=&since=1h&until=&tool=&decision=&limit=`
 * answers JSON lines, oldest first (the same filters as `portcullis audit query`). Authenticated
 * like /mcp, on every request, and audited like every other authentication decision.
 *
 * Reading the log is itself recorded, in the same chain: who read (`admin-read`, with the filters
 * as the record's arguments) and who was refused (`admin-denied`: no or a bad credential, a rate
 * limit, or a missing `admin:audit` scope). A read whose record cannot be committed is not
 * answered: nobody reads the audit log off the record.
 */
export function createAdminAuditRoutes(deps: {
  pipeline: McpPipeline;
  audit: { readonly log: AuditLog; readonly argsKey: Buffer };
  trustProxy: boolean;
}): Hono<{ Variables: { requestId: string } }> {
  const app = new Hono<{ Variables: { requestId: string } }>();
  app.get('/audit', async (c) => {
    const started = Date.now();
    const requestId = c.get('requestId');
    const meta = { requestId, ip: clientAddress(c, deps.trustProxy), bytesIn: 0 };
    const asked: Record<string, string> = {};
    for (const name of QUERY_PARAMS) {
      const value = c.req.query(name);
      if (value !== undefined) asked[name] = value;
    }
    const record = (entry: Omit<AuditEntry, 'correlationId' | 'event' | 'latencyMs' | 'bytesIn'>) =>
      deps.audit.log.append({
        correlationId: requestId,
        event: 'admin',
        args: describeArgs(asked, deps.audit.argsKey, { fullPayload: true }),
        latencyMs: Date.now() - started,
        bytesIn: 0,
        ...entry,
      });
    // A refusal stands whether or not its record could be written; a failed append is already an
    // audit failure the log reports.
    const denied = (outcome: 'unauthenticated' | 'rate-limited' | 'denied', principal?: Principal) =>
      record({
        ...(principal ? identity(principal) : {}),
        decision: 'deny',
        reasons: ['admin-denied'],
        scope: AUDIT_READ_SCOPE,
        outcome,
        bytesOut: 0,
      }).catch(() => undefined);

    const auth = await deps.pipeline.authenticate(
      { authorization: c.req.header('authorization'), url: new URL(c.req.url) },
      meta,
    );
    if (!auth.ok) {
      await denied(auth.kind);
      return auth.kind === 'rate-limited'
        ? rateLimitedResponse(auth.refusal, null)
        : unauthorizedResponse({ missing: auth.missing });
    }
    if (!auth.principal.scopes.has(AUDIT_READ_SCOPE)) {
      await denied('denied', auth.principal);
      return c.json({ error: 'insufficient_scope', scope: AUDIT_READ_SCOPE }, HTTP_STATUS.forbidden, {
        'www-authenticate': `Bearer realm="portcullis", error="insufficient_scope", scope="${AUDIT_READ_SCOPE}"`,
      });
    }
    const who = identity(auth.principal);
    let query: AuditQuery;
    try {
      query = {
        ...parseFilters(asked, new Date()),
        limit: asked.limit ? parseLimit(asked.limit) : 1000,
        newest: true,
      };
    } catch (err) {
      if (!(err instanceof AuditQueryError)) throw err;
      await record({ ...who, decision: 'allow', reasons: ['admin-read'], outcome: 'invalid', bytesOut: 0 });
      return c.json({ error: 'invalid_request', error_description: err.message }, HTTP_STATUS.badRequest);
    }
    const records = await deps.audit.log.query(query);
    const body = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    // Committed before the answer: the read is on the record before anyone sees what was read.
    await record({
      ...who,
      decision: 'allow',
      reasons: ['admin-read'],
      outcome: 'ok',
      bytesOut: Buffer.byteLength(body),
    });
    return c.body(body, HTTP_STATUS.ok, { 'content-type': 'application/x-ndjson; charset=utf-8' });
  });
  app.notFound(() => wireErrorResponse('not-found', 'Not found.'));
  return app;
}
