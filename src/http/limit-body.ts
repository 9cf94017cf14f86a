import type { MiddlewareHandler } from 'hono';
import { HTTP_STATUS } from '../wire/index.js';

/**
 * The OAuth protocol endpoints (token, registration, PAR, revocation…): oidc-provider's own
 * body parser refuses more than 56 KiB (lib/shared/selective_body.js), so the gateway's cap is
 * the same number, applied before the provider reads anything.
 */
export const OAUTH_BODY_LIMIT = 56 * 1024;

/**
 * The refusal. The rest of the body is never read into memory. After a POST (or PUT, PATCH…)
 * @hono/node-server discards what still arrives for at most 500 ms or 64 MiB and then closes
 * the connection: a lingering close (RFC 9112 §9.6), so the client reads this answer rather
 * than a reset that can erase it. A GET or HEAD body is not drained by the adapter (Node would
 * read all of it to keep the connection), so that connection closes with the answer.
 */
const refuse = (
  method: string,
  status: typeof HTTP_STATUS.lengthRequired | typeof HTTP_STATUS.contentTooLarge,
  description: string,
) =>
  new Response(JSON.stringify({ error: 'invalid_request', error_description: description }), {
    status,
    headers: {
      'content-type': 'application/json',
      ...(method === 'GET' || method === 'HEAD' ? { connection: 'close' } : {}),
    },
  });

/**
 * Bounds a request body before any handler reads it, from the headers alone.
 *
 * - A declared `Content-Length` over the route's cap is 413. Node's HTTP parser frames the
 *   body by that header, so a route that passes this check can never read more than the cap.
 * - A body of undeclared length (`Transfer-Encoding: chunked`) is 411 Length Required, which
 *   RFC 9112 §6.3 and RFC 9110 §15.5.12 allow a server to answer when it wants the length up
 *   front. Browsers always declare the length of a form; a streamed body would otherwise reach
 *   oidc-provider, which reads the raw Node request itself.
 *
 * `limitFor` names the cap of a path, or undefined for routes that bound their own bodies
 * (`/mcp` reads its JSON with its own cap after authenticating).
 */
export function limitBody(limitFor: (path: string) => number | undefined): MiddlewareHandler {
  return async function limitBodyMiddleware(c, next) {
    const limit = limitFor(c.req.path);
    if (limit === undefined) return next();
    if (c.req.header('transfer-encoding') !== undefined) {
      return refuse(c.req.method, HTTP_STATUS.lengthRequired, 'Send the request body with a Content-Length.');
    }
    const declared = c.req.header('content-length');
    if (declared !== undefined && !(Number(declared) <= limit)) {
      return refuse(
        c.req.method,
        HTTP_STATUS.contentTooLarge,
        `The request body is larger than this endpoint accepts (${limit} bytes).`,
      );
    }
    return next();
  };
}
