import type { SharedState } from '../shared-state/index.js';
import type { RateLimitBackend } from './limiter.js';

/**
 * Where the counters live: in this process without Redis; in Redis (under `<prefix>rl`) with
 * it, so replicas share them. The shared client fails fast, and while Redis is unreachable the
 * limiter counts in this process (limiter.ts).
 */
export function rateLimitBackend(shared: SharedState | undefined): RateLimitBackend {
  return shared ? { kind: 'redis', client: shared.client, keyPrefix: shared.key('rl') } : { kind: 'memory' };
}
