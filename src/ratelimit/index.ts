// The rate-limit capability: every tier, memory or Redis counters, and the HTTP fields for them.
export { rateLimitConfigSchema, type RateLimitConfig } from './config.js';
export {
  createLimiter,
  type LimitSpec,
  type RateDecision,
  type RateLimitBackend,
  type RateLimiter,
} from './limiter.js';
export { createConcurrencyLimiter, type ConcurrencyLimiter } from './concurrency.js';
export {
  createRateLimits,
  type RateLimitReason,
  type RateLimitRefusal,
  type RateLimits,
  type RateLimitTier,
  type TierUsage,
  type ToolCallKey,
  type ToolCallRateDecision,
} from './tiers.js';
export { rateLimitHeaders, refusalHeaders, refusalMessage } from './headers.js';
export { addressKey } from './address-key.js';
export { rateLimitBackend } from './backend.js';
