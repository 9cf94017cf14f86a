import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export type RequestIdVariables = { requestId: string };

/**
 * Gives every request a correlation id, returned as `X-Request-Id` and used in logs, audit
 * records and generic error messages. A client-sent id is not trusted: it could collide with
 * or impersonate another request's.
 */
export function requestId(): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  return async function requestIdMiddleware(c, next) {
    const id = `req_${randomBytes(12).toString('base64url')}`;
    c.set('requestId', id);
    await next();
    c.res.headers.set('x-request-id', id);
  };
}
