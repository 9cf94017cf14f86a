import { Redis } from 'ioredis';
import { resolveSecret, type SecretRef } from '../secrets/index.js';
import type { RateLimitBackend } from './limiter.js';

/** Where the counters live, and how to let go of them at shutdown. */
export interface RateLimitCounters {
  readonly backend: RateLimitBackend;
  /** Resolves when Redis answers PING (undefined without Redis, when there is nothing to ask). */
  readonly ping: (() => Promise<void>) | undefined;
  close(): Promise<void>;
}

/**
 * The counters for the `redis` section: in this process without a URL; in Redis with one, so
 * replicas share them. The client fails fast (one retry, no offline queue), and while Redis is
 * unreachable `onUnavailable` is told; the limiter then counts in this process.
 */
export function openRateLimitCounters(
  redis: { readonly url?: string | undefined; readonly password?: SecretRef | undefined },
  env: NodeJS.ProcessEnv,
  onUnavailable: (err: Error) => void,
): RateLimitCounters {
  if (!redis.url) return { backend: { kind: 'memory' }, ping: undefined, close: async () => {} };
  const client = new Redis(redis.url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    ...(redis.password ? { password: resolveSecret(redis.password, env) } : {}),
  });
  client.on('error', onUnavailable);
  return {
    backend: { kind: 'redis', client },
    ping: async () => void (await client.ping()),
    close: async () => {
      client.disconnect();
    },
  };
}
