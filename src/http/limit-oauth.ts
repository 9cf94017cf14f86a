import type { MiddlewareHandler } from 'hono';
import type { RateLimits } from '../ratelimit/index.js';
import { clientAddress } from './client-address.js';
import { rateLimitedResponse } from './responses.js';

/**
 * Limits requests to the authorization server per client address (`rateLimits.oauth`): its
 * endpoints do password checks, key operations and storage writes, and are reachable without
 * a credential.
 */
export function limitOAuth(limits: RateLimits, trustProxy: boolean): MiddlewareHandler {
  return async function limitOAuthMiddleware(c, next) {
    const refusal = await limits.checkOAuth(clientAddress(c, trustProxy));
    if (refusal) return rateLimitedResponse(refusal, null);
    await next();
  };
}
