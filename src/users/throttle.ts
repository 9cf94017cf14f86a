import { createHash } from 'node:crypto';
import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import type { SharedState } from '../shared-state/index.js';

/**
 * Failed-login throttling per account and per client address. In one process: a sliding window
 * over a bounded map, the arithmetic pure (time is an argument). With Redis (replicas): the
 * counts are shared (`createSharedLoginThrottle`), so N replicas do not give a guesser N budgets.
 */
export interface ThrottlePolicy {
  readonly maxFailuresPerAccount: number;
  readonly maxFailuresPerAddress: number;
  readonly windowMs: number;
  readonly lockoutMs: number;
}

interface Counter {
  readonly failures: readonly number[];
  readonly lockedUntil: number;
}

export type ThrottleVerdict =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly reason: 'account-locked' | 'address-locked';
      readonly retryAfterMs: number;
    };

const EMPTY: Counter = { failures: [], lockedUntil: 0 };

/** The counter after one more failure at `now`: old failures drop out of the window. */
function recordFailure(c: Counter, now: number, limit: number, p: ThrottlePolicy): Counter {
  const failures = [...c.failures.filter((t) => t > now - p.windowMs), now].slice(-limit);
  return { failures, lockedUntil: failures.length >= limit ? now + p.lockoutMs : c.lockedUntil };
}

export interface LoginThrottle {
  check(account: string, address: string, now: number): Promise<ThrottleVerdict>;
  fail(account: string, address: string, now: number): Promise<void>;
  /** A successful login clears the account's failures (not the address's). */
  succeed(account: string): Promise<void>;
}

const MAX_TRACKED = 10_000;

/** The throttle of this process alone. */
export function createLoginThrottle(policy: ThrottlePolicy): LoginThrottle {
  const accounts = new Map<string, Counter>();
  const addresses = new Map<string, Counter>();
  const put = (map: Map<string, Counter>, key: string, value: Counter, now: number) => {
    map.delete(key);
    map.set(key, value);
    if (map.size > MAX_TRACKED) map.delete(evictable(map, now));
  };
  /**
   * The entry the bound forgets: the oldest that is not locked. A locked entry gets no new
   * failures (its attempts are refused before the password is checked), so it is never the
   * most recently written; dropping the oldest entry would let anyone spraying other names
   * unlock it early. Only when every entry is locked does the oldest lock go.
   */
  const evictable = (map: Map<string, Counter>, now: number): string => {
    for (const [key, c] of map) if (c.lockedUntil <= now) return key;
    return map.keys().next().value!;
  };
  return {
    async check(account, address, now) {
      const a = accounts.get(account) ?? EMPTY;
      if (a.lockedUntil > now)
        return { allowed: false, reason: 'account-locked', retryAfterMs: a.lockedUntil - now };
      const b = addresses.get(address) ?? EMPTY;
      if (b.lockedUntil > now)
        return { allowed: false, reason: 'address-locked', retryAfterMs: b.lockedUntil - now };
      return { allowed: true };
    },
    async fail(account, address, now) {
      put(
        accounts,
        account,
        recordFailure(accounts.get(account) ?? EMPTY, now, policy.maxFailuresPerAccount, policy),
        now,
      );
      put(
        addresses,
        address,
        recordFailure(addresses.get(address) ?? EMPTY, now, policy.maxFailuresPerAddress, policy),
        now,
      );
    },
    async succeed(account) {
      accounts.delete(account);
    },
  };
}

/**
 * The throttle shared by every replica through Redis, under `<prefix>throttle:<name>:…`: a
 * failure counts once wherever it lands, and a lock set by one replica holds on all of them.
 * Counting is rate-limiter-flexible's (atomic, a fixed window from the key's first failure);
 * the failure that reaches the limit blocks the key for the lockout. Account names are hashed
 * in keys (Redis need not hold the names people type).
 *
 * Redis outage — never unlimited: every failure is also counted by this replica's own throttle
 * (`createLoginThrottle`), and a check refuses when either says locked. While Redis cannot be
 * reached the local count alone applies (per-replica limits), and a Redis that lost its data
 * does not unlock what this replica saw.
 */
export function createSharedLoginThrottle(
  policy: ThrottlePolicy,
  shared: SharedState,
  name: string,
  onError: (err: Error) => void = () => undefined,
): LoginThrottle {
  const local = createLoginThrottle(policy);
  const windowSeconds = Math.max(1, Math.ceil(policy.windowMs / 1000));
  const lockoutSeconds = Math.max(1, Math.ceil(policy.lockoutMs / 1000));
  const limiter = (kind: string, points: number) =>
    new RateLimiterRedis({
      storeClient: shared.client,
      keyPrefix: shared.key('throttle', name, kind),
      points,
      duration: windowSeconds,
      rejectIfRedisNotReady: true,
    });
  const accounts = {
    limiter: limiter('account', policy.maxFailuresPerAccount),
    points: policy.maxFailuresPerAccount,
  };
  const addresses = {
    limiter: limiter('address', policy.maxFailuresPerAddress),
    points: policy.maxFailuresPerAddress,
  };
  const accountKey = (account: string) => createHash('sha256').update(account, 'utf8').digest('base64url');

  /** Milliseconds the key stays locked, 0 when it is not; undefined when Redis did not answer. */
  const lockedFor = async (l: typeof accounts, key: string): Promise<number | undefined> => {
    try {
      const res = await l.limiter.get(key);
      return res && res.consumedPoints >= l.points ? Math.max(1, res.msBeforeNext) : 0;
    } catch (err) {
      onError(err as Error);
      return undefined;
    }
  };
  const count = async (l: typeof accounts, key: string): Promise<void> => {
    try {
      const res: RateLimiterRes = await l.limiter.penalty(key, 1);
      if (res.consumedPoints >= l.points) await l.limiter.block(key, lockoutSeconds);
    } catch (err) {
      onError(err as Error);
    }
  };

  return {
    async check(account, address, now) {
      const mine = await local.check(account, address, now);
      if (!mine.allowed) return mine;
      const [a, b] = await Promise.all([
        lockedFor(accounts, accountKey(account)),
        lockedFor(addresses, address),
      ]);
      if (a) return { allowed: false, reason: 'account-locked', retryAfterMs: a };
      if (b) return { allowed: false, reason: 'address-locked', retryAfterMs: b };
      return { allowed: true };
    },
    async fail(account, address, now) {
      await local.fail(account, address, now);
      await Promise.all([count(accounts, accountKey(account)), count(addresses, address)]);
    },
    async succeed(account) {
      await local.succeed(account);
      try {
        await accounts.limiter.delete(accountKey(account));
      } catch (err) {
        onError(err as Error);
      }
    },
  };
}
