/**
 * The rate-limit tiers and the order a tool call is charged against them.
 *
 * Order: credential → session → tool → upstream → daily quota → concurrency. Broad, short windows
 * first; the daily quota late, so calls refused by a shorter window do not burn the day's budget;
 * the concurrency slot last, because it is the only one that must be given back when the call ends.
 * When a tier refuses, the points already taken by the tiers before it are refunded: a refused call
 * did no work and should not count against the client's other budgets (otherwise hammering one
 * strict tool would also starve every other tool). The refusing tier keeps its own count.
 */
import { globToRegExp } from '../glob/index.js';
import { addressKey } from './address-key.js';
import type { RateLimitConfig } from './config.js';
import { createConcurrencyLimiter, type ConcurrencyLimiter } from './concurrency.js';
import { createLimiter, type LimitSpec, type RateLimitBackend, type RateLimiter } from './limiter.js';

export type RateLimitTier =
  | 'credential'
  | 'session'
  | 'tool'
  | 'upstream'
  | 'daily-quota'
  | 'concurrency'
  | 'failed-auth'
  | 'oauth'
  | 'registration';

/** The kebab-case reason stored in the audit record and counted in metrics. */
export type RateLimitReason = `rate-limit-${RateLimitTier}`;

const reasonFor = (tier: RateLimitTier): RateLimitReason => `rate-limit-${tier}`;

/** What a tier allowed: the numbers behind the RateLimit headers. */
export interface TierUsage {
  readonly tier: RateLimitTier;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly remaining: number;
  readonly resetMs: number;
}

export interface RateLimitRefusal {
  readonly allowed: false;
  readonly tier: RateLimitTier;
  readonly reason: RateLimitReason;
  readonly retryAfterSeconds: number;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly resetMs: number;
}

export type ToolCallRateDecision =
  | {
      readonly allowed: true;
      /** Frees the concurrency slot; call it when the tool call ends, however it ends. */
      readonly release: () => void;
      readonly usage: readonly TierUsage[];
    }
  | RateLimitRefusal;

export interface ToolCallKey {
  /**
   * Who is calling, not which token they hold today: an API key's id, or for OAuth the grant
   * (client + subject), which every refreshed or newly issued token of that grant shares. Keyed
   * by a token's `jti`, a client would get a fresh budget with each new token.
   */
  readonly caller: string;
  readonly sessionId?: string;
  readonly tool: string;
  readonly upstream?: string;
}

const DAY_SECONDS = 24 * 60 * 60;

/** Pure: the limit specs the configuration describes (also the source of RateLimit-Policy). */
function describeTiers(config: RateLimitConfig) {
  const c = config.credential;
  return {
    credential: {
      name: 'credential',
      points: c.points,
      windowSeconds: c.windowSeconds,
      ...(c.burst > 0 ? { burst: { points: c.burst, windowSeconds: c.burstWindowSeconds } } : {}),
    },
    session: { name: 'session', ...config.session },
    tools: Object.entries(config.tools).map(([glob, limit]) => ({
      glob,
      matcher: globToRegExp(glob),
      spec: { name: `tool:${glob}`, ...limit },
    })),
    upstream: { name: 'upstream', ...config.upstream },
    upstreams: Object.entries(config.upstreams).map(([name, limit]) => ({
      name,
      spec: { name: `upstream:${name}`, ...limit },
    })),
    dailyQuota: { name: 'daily-quota', points: config.dailyQuota.points, windowSeconds: DAY_SECONDS },
    failedAuth: {
      name: 'failed-auth',
      points: config.failedAuth.points,
      windowSeconds: config.failedAuth.windowSeconds,
      blockSeconds: config.failedAuth.blockSeconds,
    },
    oauth: { name: 'oauth', ...config.oauth },
    registration: { name: 'registration', ...config.registration },
  } satisfies Record<string, unknown>;
}

export interface RateLimits {
  checkToolCall(key: ToolCallKey): Promise<ToolCallRateDecision>;
  /** Whether an address may attempt authentication (peeks; does not count). */
  checkAuthAllowed(ip: string): Promise<RateLimitRefusal | undefined>;
  /** Counts a failed authentication from an address. */
  recordFailedAuth(ip: string): Promise<RateLimitRefusal | undefined>;
  /** Counts a request to the OAuth endpoints from an address. */
  checkOAuth(ip: string): Promise<RateLimitRefusal | undefined>;
  /** Counts a client registration from an address. */
  checkRegistration(ip: string): Promise<RateLimitRefusal | undefined>;
}

export function createRateLimits(config: RateLimitConfig, backend: RateLimitBackend): RateLimits {
  const tiers = describeTiers(config);
  const credential = createLimiter(backend, tiers.credential);
  const session = createLimiter(backend, tiers.session);
  const tools = tiers.tools.map((t) => ({ matcher: t.matcher, limiter: createLimiter(backend, t.spec) }));
  const defaultUpstream = createLimiter(backend, tiers.upstream);
  const upstreams = new Map(tiers.upstreams.map((u) => [u.name, createLimiter(backend, u.spec)]));
  const daily = createLimiter(backend, tiers.dailyQuota);
  const failedAuth = createLimiter(backend, tiers.failedAuth);
  const oauth = createLimiter(backend, tiers.oauth);
  const registration = createLimiter(backend, tiers.registration);
  const concurrency: ConcurrencyLimiter = createConcurrencyLimiter(config.concurrency.maxInFlight);

  async function single(tier: RateLimitTier, limiter: RateLimiter, key: string) {
    const decision = await limiter.consume(key);
    return decision.allowed ? undefined : refusal(tier, limiter.spec, decision);
  }

  return {
    async checkToolCall(call) {
      const steps: Array<{ tier: RateLimitTier; limiter: RateLimiter; key: string }> = [
        { tier: 'credential', limiter: credential, key: call.caller },
      ];
      if (call.sessionId !== undefined)
        steps.push({ tier: 'session', limiter: session, key: call.sessionId });
      const tool = tools.find((t) => t.matcher.test(call.tool));
      if (tool) steps.push({ tier: 'tool', limiter: tool.limiter, key: call.caller });
      if (call.upstream !== undefined) {
        const limiter = upstreams.get(call.upstream) ?? defaultUpstream;
        steps.push({ tier: 'upstream', limiter, key: `${call.upstream}|${call.caller}` });
      }
      steps.push({ tier: 'daily-quota', limiter: daily, key: call.caller });

      const usage: TierUsage[] = [];
      for (const [i, step] of steps.entries()) {
        const decision = await step.limiter.consume(step.key);
        if (!decision.allowed) {
          await refundAll(steps.slice(0, i));
          return refusal(step.tier, step.limiter.spec, decision);
        }
        usage.push({
          tier: step.tier,
          limit: decision.limit,
          windowSeconds: step.limiter.spec.windowSeconds,
          remaining: decision.remaining,
          resetMs: decision.resetMs,
        });
      }
      const release = concurrency.acquire(call.caller);
      if (!release) {
        await refundAll(steps);
        return {
          allowed: false,
          tier: 'concurrency',
          reason: reasonFor('concurrency'),
          // A slot frees when any running call ends; there is no window to wait for.
          retryAfterSeconds: 1,
          limit: concurrency.max,
          windowSeconds: 0,
          resetMs: 0,
        };
      }
      return { allowed: true, release, usage };
    },
    // Per-address tiers count an address as the connection cap does (address-key.ts).
    async checkAuthAllowed(ip) {
      const decision = await failedAuth.peek(addressKey(ip));
      return decision.allowed ? undefined : refusal('failed-auth', failedAuth.spec, decision);
    },
    recordFailedAuth: (ip) => single('failed-auth', failedAuth, addressKey(ip)),
    checkOAuth: (ip) => single('oauth', oauth, addressKey(ip)),
    checkRegistration: (ip) => single('registration', registration, addressKey(ip)),
  };
}

async function refundAll(steps: ReadonlyArray<{ limiter: RateLimiter; key: string }>): Promise<void> {
  await Promise.all(steps.map((s) => s.limiter.refund(s.key)));
}

function refusal(
  tier: RateLimitTier,
  spec: LimitSpec,
  decision: { retryAfterSeconds: number; limit: number; resetMs: number },
): RateLimitRefusal {
  return {
    allowed: false,
    tier,
    reason: reasonFor(tier),
    retryAfterSeconds: decision.retryAfterSeconds,
    limit: decision.limit,
    windowSeconds: spec.windowSeconds,
    resetMs: decision.resetMs,
  };
}
