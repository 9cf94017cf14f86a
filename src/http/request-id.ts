import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { hasCommonHeaders } from '../wire/index.js';

export type RequestIdVariables = { requestId: string };

/**
 * Gives every request a correlation id, returned as `X-Request-Id` and used in logs, audit
 * records and generic error messages. A client-sent id is not trusted: it could collide with
 * or impersonate another request's.
 */
export function requestId(): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  return async function requestIdMiddleware(c, next) {
    // randomUUID draws from a cached entropy pool: a fresh randomBytes call per request showed
    // up in profiles of the hot path.
    const id = `req_${randomUUID().replaceAll('-', '')}`;
    c.set('requestId', id);
    await next();
    // A response built with the common headers carries the id already (wire/common-headers.ts).
    if (!hasCommonHeaders(c.res)) c.res.headers.set('x-request-id', id);
  };
}
