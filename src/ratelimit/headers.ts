/**
 * HTTP rate-limit fields, pure. Syntax per draft-ietf-httpapi-ratelimit-headers-09 (March 2025),
 * sections 3 and 4: both fields are Structured Field Lists (RFC 9651) whose members are a quoted
 * policy name with parameters —
 *   RateLimit-Policy: "credential";q=60;w=60      q = quota units, w = window in seconds
 *   RateLimit:        "credential";r=0;t=12       r = remaining units, t = seconds until reset
 * plus Retry-After (RFC 9110 section 10.2.3) in whole seconds on a 429. The draft is still a draft:
 * this module is the one place to change if the syntax moves.
 */
import type { RateLimitRefusal, RateLimitTier, TierUsage } from './tiers.js';

/** An sf-string (RFC 9651 section 3.3.3): quoted, with `"` and `\` escaped. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/** Headers for an allowed call: the policies it was counted against and what is left of each. */
export function rateLimitHeaders(usage: readonly TierUsage[]): Record<string, string> {
  if (usage.length === 0) return {};
  return {
    'RateLimit-Policy': usage.map((u) => `${sfString(u.tier)};q=${u.limit};w=${u.windowSeconds}`).join(', '),
    RateLimit: usage.map((u) => `${sfString(u.tier)};r=${u.remaining};t=${seconds(u.resetMs)}`).join(', '),
  };
}

/** Headers for a 429. */
export function refusalHeaders(refusal: RateLimitRefusal): Record<string, string> {
  const headers: Record<string, string> = {
    'Retry-After': String(refusal.retryAfterSeconds),
    RateLimit: `${sfString(refusal.tier)};r=0;t=${refusal.retryAfterSeconds}`,
  };
  // A concurrency cap has no window, so it has no quota policy to advertise.
  if (refusal.windowSeconds > 0) {
    headers['RateLimit-Policy'] = `${sfString(refusal.tier)};q=${refusal.limit};w=${refusal.windowSeconds}`;
  }
  return headers;
}

const SUBJECT: Record<RateLimitTier, string> = {
  credential: 'this credential',
  session: 'this session',
  tool: 'this tool',
  upstream: 'this upstream server',
  'daily-quota': 'the daily quota of this credential',
  concurrency: 'concurrent calls of this credential',
  'failed-auth': 'failed sign-ins from this address',
  oauth: 'authorization and sign-in requests from this address',
  registration: 'client registrations from this address',
};

/** Text a model can act on, e.g. "Rate limit exceeded for this credential: retry in 12 seconds." */
export function refusalMessage(refusal: RateLimitRefusal): string {
  const n = refusal.retryAfterSeconds;
  return `Rate limit exceeded for ${SUBJECT[refusal.tier]}: retry in ${n} second${n === 1 ? '' : 's'}.`;
}
