/**
 * One rate limit over many keys, behind a narrow interface. Counting is rate-limiter-flexible's
 * (atomic increments, fixed windows that start at a key's first request); nothing here counts.
 *
 * Redis outage — decision: **degrade to per-replica limits, never to "unlimited"**. Every Redis
 * limiter has an in-memory `insuranceLimiter` with the same limit, used whenever Redis errors or is
 * not ready (`rejectIfRedisNotReady`, so a call never waits on a reconnect). With R replicas a
 * client can then get up to R times its limit until Redis is back: failing open would remove the
 * brute-force and abuse protection entirely; failing closed would turn a cache outage into a total
 * outage of the gateway. Tested in redis.test.ts.
 */
import type { Redis } from 'ioredis';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

export type RateLimitBackend =
  | { readonly kind: 'memory' }
  | { readonly kind: 'redis'; readonly client: Redis; readonly keyPrefix?: string };

export interface LimitSpec {
  /** Also the key namespace and the policy name in headers. */
  readonly name: string;
  readonly points: number;
  readonly windowSeconds: number;
  /** Extra calls allowed once `points` are spent, refilled every `windowSeconds` of the burst. */
  readonly burst?: { readonly points: number; readonly windowSeconds: number };
  /** Once exceeded, refuse the key for this long (brute-force tiers). */
  readonly blockSeconds?: number;
}

export type RateDecision =
  | { readonly allowed: true; readonly remaining: number; readonly resetMs: number; readonly limit: number }
  | {
      readonly allowed: false;
      readonly retryAfterSeconds: number;
      readonly limit: number;
      readonly remaining: 0;
      readonly resetMs: number;
    };

export interface RateLimiter {
  readonly spec: LimitSpec;
  consume(key: string, points?: number): Promise<RateDecision>;
  /** Gives back points consumed for a call that a later tier refused. */
  refund(key: string, points?: number): Promise<void>;
  /** The decision `consume` would make, without consuming. */
  peek(key: string): Promise<RateDecision>;
}

const DEFAULT_KEY_PREFIX = 'portcullis:rl';

export function createLimiter(backend: RateLimitBackend, spec: LimitSpec): RateLimiter {
  const main = build(backend, spec.name, spec.points, spec.windowSeconds, spec.blockSeconds);
  const consumer =
    spec.burst && spec.burst.points > 0
      ? new BurstyRateLimiter(
          main,
          build(backend, `${spec.name}-burst`, spec.burst.points, spec.burst.windowSeconds),
        )
      : main;

  return {
    spec,
    async consume(key, points = 1) {
      try {
        return allowed(spec, await consumer.consume(key, points));
      } catch (rejection) {
        // A RateLimiterRes rejection is a refusal; anything else is a store failure the insurance
        // limiter could not absorb, which must not be mistaken for permission.
        if (rejection instanceof RateLimiterRes) return refused(spec, rejection);
        throw rejection;
      }
    },
    async refund(key, points = 1) {
      await main.reward(key, points);
    },
    async peek(key) {
      const res = await main.get(key);
      if (!res)
        return {
          allowed: true,
          remaining: spec.points,
          resetMs: spec.windowSeconds * 1000,
          limit: spec.points,
        };
      return res.consumedPoints >= spec.points ? refused(spec, res) : allowed(spec, res);
    },
  };
}

function build(
  backend: RateLimitBackend,
  name: string,
  points: number,
  duration: number,
  blockDuration = 0,
): RateLimiterAbstract {
  const insurance = new RateLimiterMemory({ points, duration, blockDuration, keyPrefix: name });
  if (backend.kind === 'memory') return insurance;
  return new RateLimiterRedis({
    storeClient: backend.client,
    keyPrefix: `${backend.keyPrefix ?? DEFAULT_KEY_PREFIX}:${name}`,
    points,
    duration,
    blockDuration,
    rejectIfRedisNotReady: true,
    insuranceLimiter: insurance,
  });
}

function allowed(spec: LimitSpec, res: RateLimiterRes): RateDecision {
  return {
    allowed: true,
    remaining: Math.max(0, res.remainingPoints),
    resetMs: Math.max(0, res.msBeforeNext),
    limit: spec.points,
  };
}

function refused(spec: LimitSpec, res: RateLimiterRes): RateDecision {
  const resetMs = Math.max(0, res.msBeforeNext);
  return {
    allowed: false,
    // Retry-After is whole seconds (RFC 9110 section 10.2.3); rounding up never invites an early retry.
    retryAfterSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
    limit: spec.points,
    remaining: 0,
    resetMs,
  };
}
