import type { MiddlewareHandler } from 'hono';
import { hasCommonHeaders, type CommonHeaders } from '../wire/index.js';

/**
 * Headers on every response. The gateway serves JSON and event streams, so the CSP forbids
 * everything; pages (later) set their own stricter-than-default policy. `defaults` are set only
 * where the route set none of its own; `fixed` always. One table, used both by the middleware
 * and by the routes that build their answer with it (wire/common-headers.ts).
 */
export function securityHeaderSet(opts: { hsts: boolean }): CommonHeaders {
  return {
    defaults: Object.freeze({
      // Pages with forms set `same-origin`: under `no-referrer` browsers send `Origin: null` on a
      // form POST, which the Origin check must refuse.
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'cache-control': 'no-store',
    }),
    fixed: Object.freeze({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'cross-origin-resource-policy': 'same-origin',
      ...(opts.hsts ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
    }),
  };
}

export function securityHeaders(set: CommonHeaders): MiddlewareHandler {
  const defaults = Object.entries(set.defaults);
  const fixed = Object.entries(set.fixed);
  return async function securityHeadersMiddleware(c, next) {
    await next();
    // Built with the same table already (wire/common-headers.ts).
    if (hasCommonHeaders(c.res)) return;
    const h = c.res.headers;
    for (const [name, value] of fixed) h.set(name, value);
    for (const [name, value] of defaults) if (!h.has(name)) h.set(name, value);
  };
}
