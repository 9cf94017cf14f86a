import { Hono } from 'hono';
import { AuditQueryError, parseFilters, parseLimit, type AuditLog, type AuditQuery } from '../audit/index.js';
import type { McpPipeline } from '../mcp/pipeline.js';
import { clientAddress } from './client-address.js';
import { jsonRpcErrorResponse, rateLimitedResponse, unauthorizedResponse } from './responses.js';

/** The scope an API key or token needs to read the audit log over HTTP. */
export const AUDIT_READ_SCOPE = 'admin:audit';

/**
 * The audit query as an admin API: `GET /admin/audit?principal=&since=1h&until=&tool=&decision=&limit=`
 * answers JSON lines, oldest first (the same filters as `portcullis audit query`). Authenticated
 * like /mcp, on every request, and audited like every other authentication decision.
 */
export function createAdminAuditRoutes(deps: {
  pipeline: McpPipeline;
  audit: AuditLog;
  trustProxy: boolean;
}): Hono<{ Variables: { requestId: string } }> {
  const app = new Hono<{ Variables: { requestId: string } }>();
  app.get('/audit', async (c) => {
    const meta = { requestId: c.get('requestId'), ip: clientAddress(c, deps.trustProxy), bytesIn: 0 };
    const auth = await deps.pipeline.authenticate(
      { authorization: c.req.header('authorization'), url: new URL(c.req.url) },
      meta,
    );
    if (!auth.ok) {
      return auth.kind === 'rate-limited'
        ? rateLimitedResponse(auth.refusal, null)
        : unauthorizedResponse({ missing: auth.missing });
    }
    if (!auth.principal.scopes.has(AUDIT_READ_SCOPE)) {
      return c.json({ error: 'insufficient_scope', scope: AUDIT_READ_SCOPE }, 403, {
        'www-authenticate': `Bearer realm="portcullis", error="insufficient_scope", scope="${AUDIT_READ_SCOPE}"`,
      });
    }
    let query: AuditQuery;
    try {
      const q = c.req.query();
      query = { ...parseFilters(q, new Date()), limit: q.limit ? parseLimit(q.limit) : 1000, newest: true };
    } catch (err) {
      if (err instanceof AuditQueryError)
        return c.json({ error: 'invalid_request', error_description: err.message }, 400);
      throw err;
    }
    const records = await deps.audit.query(query);
    return c.body(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
    });
  });
  app.notFound(() => jsonRpcErrorResponse(404, -32601, 'Not found.'));
  return app;
}
