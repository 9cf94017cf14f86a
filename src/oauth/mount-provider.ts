import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type Provider from 'oidc-provider';
import type { OAuthEnv } from './http-env.js';

/**
 * The platform's own Response class. @hono/node-server replaces the global one with a
 * lightweight variant whose fast path ignores the "already sent" marker, so the marker response
 * is built from the class of the adapter's own marker constant, created before that swap.
 */
const NativeResponse = RESPONSE_ALREADY_SENT.constructor as typeof Response;

/** Where oidc-provider is mounted; its issuer is `<public URL>/oauth`. */
export const OAUTH_PREFIX = '/oauth';

/**
 * Headers every response gets from our Hono middleware. oidc-provider writes to the Node
 * response itself, after which Hono's middleware can no longer touch it, so they are set on the
 * raw response before oidc-provider runs. JSON endpoints need no more than `default-src 'none'`;
 * the error page links our stylesheet.
 */
function presetHeaders(res: ServerResponse, requestId: string | undefined, hsts: boolean) {
  if (requestId) res.setHeader('x-request-id', requestId);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader(
    'content-security-policy',
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  if (hsts) res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
}

/**
 * oidc-provider's router ignores letter case and one trailing slash (`/REG`, `/reg/` reach the
 * registration endpoint), while the gateway's guards in front of it match exact paths (the
 * per-address registration limit on `POST /oauth/reg`). So only the exact spelling of a route is
 * passed on: no trailing slash, and a lowercase first segment — every route's first segment is
 * a fixed lowercase word (`auth`, `token`, `reg`, `.well-known`…); ids come later in the path.
 */
function isCanonical(relative: string): boolean {
  const pathname = relative.split('?', 1)[0]!;
  if (pathname.length > 1 && pathname.endsWith('/')) return false;
  const first = pathname.split('/')[1] ?? '';
  return first === first.toLowerCase();
}

/**
 * Runs oidc-provider (a Koa application) for one request that Hono routed to it, on the raw
 * Node request and response that @hono/node-server exposes. Express-style mounting: `url` is
 * made relative to the mount and `originalUrl` keeps the full path, which is how oidc-provider
 * learns its mount point when building URLs. `path` lets a well-known alias (RFC 8414's
 * path-inserted discovery URL) be served by the provider's own discovery route.
 */
export type ProviderHandler = (c: Context<OAuthEnv>, path?: string) => Promise<Response>;

export function createProviderHandler(provider: Provider, opts: { hsts: boolean }): ProviderHandler {
  const callback = provider.callback() as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  return async function providerHandler(c: Context<OAuthEnv>, path?: string): Promise<Response> {
    const { incoming, outgoing } = c.env;
    const req = incoming as IncomingMessage & { originalUrl?: string };
    const full = path ?? req.url ?? '/';
    if (!isCanonical(full.slice(OAUTH_PREFIX.length))) return c.json({ error: 'not_found' }, 404);
    req.originalUrl = full;
    req.url = full.slice(OAUTH_PREFIX.length) || '/';
    presetHeaders(outgoing, c.get('requestId'), opts.hsts);
    await callback(req, outgoing);
    // Tells @hono/node-server that the response has been written already; the status is for
    // the request metrics only.
    const status = outgoing.statusCode >= 200 && outgoing.statusCode <= 599 ? outgoing.statusCode : 200;
    return new NativeResponse(null, { status, headers: { 'x-hono-already-sent': 'true' } });
  };
}
