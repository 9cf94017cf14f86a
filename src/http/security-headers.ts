import type { MiddlewareHandler } from 'hono';

/**
 * Headers on every response. The gateway serves JSON and event streams, so the CSP forbids
 * everything; pages (later) set their own stricter-than-default policy.
 */
export function securityHeaders(opts: { hsts: boolean }): MiddlewareHandler {
  return async function securityHeadersMiddleware(c, next) {
    await next();
    const h = c.res.headers;
    h.set('x-content-type-options', 'nosniff');
    // Pages with forms set `same-origin`: under `no-referrer` browsers send `Origin: null` on a
    // form POST, which the Origin check must refuse.
    if (!h.has('referrer-policy')) h.set('referrer-policy', 'no-referrer');
    h.set('x-frame-options', 'DENY');
    h.set('cross-origin-resource-policy', 'same-origin');
    if (!h.has('content-security-policy'))
      h.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    if (!h.has('cache-control')) h.set('cache-control', 'no-store');
    if (opts.hsts) h.set('strict-transport-security', 'max-age=31536000; includeSubDomains');
  };
}
