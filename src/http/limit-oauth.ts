import type { MiddlewareHandler } from 'hono';
import type { RateLimits } from '../ratelimit/index.js';
import { clientAddress } from './client-address.js';
import { rateLimitedResponse } from '../wire/index.js';

/**
 * Limits requests to the authorization server per client address (`rateLimits.oauth`): its
 * endpoints do password checks, key operations and storage writes, and are reachable without
 * a credential.
 */
export function limitOAuth(
  limits: RateLimits,
  trustProxy: boolean,
  /** Paths under the mounted prefix that are not pages (the console's JSON API). */
  skip: (path: string) => boolean = () => false,
): MiddlewareHandler {
  return async function limitOAuthMiddleware(c, next) {
    if (skip(c.req.path)) return next();
    const refusal = await limits.checkOAuth(clientAddress(c, trustProxy));
    if (refusal) return rateLimitedResponse(refusal, null);
    await next();
  };
}

/**
 * Limits Dynamic Client Registrations per client address (`rateLimits.registration`), on top of
 * the OAuth limit: registration is open to anyone and every accepted one is a stored row.
 */
export function limitRegistration(limits: RateLimits, trustProxy: boolean): MiddlewareHandler {
  return async function limitRegistrationMiddleware(c, next) {
    const refusal = await limits.checkRegistration(clientAddress(c, trustProxy));
    if (refusal) return rateLimitedResponse(refusal, null);
    await next();
  };
}
