import type { MiddlewareHandler } from 'hono';
import { wireErrorResponse } from '../wire/index.js';

export interface HostOriginPolicy {
  /** Lower-cased `host` or `host:port` values. */
  readonly hosts: ReadonlySet<string>;
  /** Serialised origins, e.g. `https://app.example.com`. */
  readonly origins: ReadonlySet<string>;
}

/**
 * DNS-rebinding and cross-site defence for every route: the Host header must name this
 * gateway, and a present Origin header must be one we serve or allow. Requests without
 * Origin (non-browser clients) pass the origin check. The MCP transport spec requires servers
 * to validate Origin: Host alone is not enough, since a page on any origin that can reach the
 * gateway sends the right Host, and only Origin tells that request apart.
 */
export function checkHostOrigin(policy: HostOriginPolicy): MiddlewareHandler {
  return async function checkHostOriginMiddleware(c, next) {
    const host = c.req.header('host')?.toLowerCase();
    if (!host || !policy.hosts.has(host)) {
      return wireErrorResponse('forbidden-request', 'Forbidden: the Host header does not name this server.');
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !policy.origins.has(origin.toLowerCase())) {
      return wireErrorResponse('forbidden-request', 'Forbidden: requests from this Origin are not allowed.');
    }
    await next();
  };
}
