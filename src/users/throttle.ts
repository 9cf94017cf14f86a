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

/**
 * `check` before the password is verified, then `fail` or `succeed`. An allowed check holds one
 * of the budget's attempts until then: the verification takes tens of milliseconds (scrypt), and
 * a check that only compared the failures counted so far let every guess sent at the same moment
 * through (20 concurrent guesses, 20 tries against a budget of 5). An attempt held and never
 * settled (the request failed in between) is let go after `PENDING_MS`.
 */
export interface LoginThrottle {
  check(account: string, address: string, now: number): Promise<ThrottleVerdict>;
  fail(account: string, address: string, now: number): Promise<void>;
  /** A successful login clears the account's failures (not the address's); the attempt is let go. */
  succeed(account: string, address?: string): Promise<void>;
}

/** Longest an allowed attempt counts against the budget before its `fail` or `succeed`. */
const PENDING_MS = 60_000;

const MAX_TRACKED = 10_000;

/** The throttle of this process alone. */
export function createLoginThrottle(policy: ThrottlePolicy): LoginThrottle {
  const accounts = new Map<string, Counter>();
  const addresses = new Map<string, Counter>();
  // Attempts allowed and not yet settled, per key: when each was allowed (bounded like the rest:
  // one entry per attempt in flight, each refused once the budget is held).
  const pendingAccounts = new Map<string, number[]>();
  const pendingAddresses = new Map<string, number[]>();
  const inFlight = (map: Map<string, number[]>, key: string, now: number) => {
    const list = (map.get(key) ?? []).filter((t) => t > now - PENDING_MS);
    if (list.length === 0) map.delete(key);
    else map.set(key, list);
    return list;
  };
  const hold = (map: Map<string, number[]>, key: string, now: number) => {
    map.set(key, [...inFlight(map, key, now), now]);
    if (map.size > MAX_TRACKED) map.delete(map.keys().next().value!);
  };
  const settle = (map: Map<string, number[]>, key: string) => {
    const list = map.get(key);
    if (!list) return;
    list.shift();
    if (list.length === 0) map.delete(key);
  };
  /** Failures in the window plus attempts in flight: what the budget has spent. */
  const spent = (c: Counter, pending: readonly number[], now: number) =>
    c.failures.filter((t) => t > now - policy.windowMs).length + pending.length;
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
      // The attempts in flight would lock it if they fail: refused as if they had.
      if (spent(a, inFlight(pendingAccounts, account, now), now) >= policy.maxFailuresPerAccount)
        return { allowed: false, reason: 'account-locked', retryAfterMs: policy.lockoutMs };
      if (spent(b, inFlight(pendingAddresses, address, now), now) >= policy.maxFailuresPerAddress)
        return { allowed: false, reason: 'address-locked', retryAfterMs: policy.lockoutMs };
      hold(pendingAccounts, account, now);
      hold(pendingAddresses, address, now);
      return { allowed: true };
    },
    async fail(account, address, now) {
      settle(pendingAccounts, account);
      settle(pendingAddresses, address);
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
    async succeed(account, address) {
      accounts.delete(account);
      settle(pendingAccounts, account);
      if (address !== undefined) settle(pendingAddresses, address);
    },
  };
}

/**
 * The throttle shared by every replica through Redis, under `<prefix>throttle:<name>:…`: a
 * failure counts once wherever it lands, and a lock set by one replica holds on all of them.
 * Counting is rate-limiter-flexible's (atomic, a fixed window from the key's first attempt):
 * each check takes one attempt of the budget before the password is verified (a success gives
 * the address's back), and the failure that reaches the limit blocks the key for the lockout. Account names are hashed
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

  /**
   * Takes one attempt of the key's budget (atomically, in Redis): milliseconds it stays locked
   * when the budget was spent already (failures and attempts in flight), 0 when the attempt may
   * go ahead; undefined when Redis did not answer.
   */
  const take = async (l: typeof accounts, key: string): Promise<number | undefined> => {
    try {
      const res: RateLimiterRes = await l.limiter.penalty(key, 1);
      if (res.consumedPoints > l.points) return Math.max(1, res.msBeforeNext);
      hold(l, key, 1);
      return 0;
    } catch (err) {
      onError(err as Error);
      return undefined;
    }
  };
  // Attempts this replica took in Redis and has not settled, per key: `fail` counts only a
  // failure whose attempt was not taken already (as when Redis did not answer the check).
  const held = new Map<string, number>();
  const hold = (l: typeof accounts, key: string, by: number): boolean => {
    const k = `${l === accounts ? 'account' : 'address'}:${key}`;
    const n = (held.get(k) ?? 0) + by;
    if (n < 0) return false;
    if (n === 0) held.delete(k);
    else held.set(k, n);
    // Bounded: an attempt whose request died unsettled is forgotten first (its failure, if it
    // ever comes, is then counted once more: stricter, never looser).
    if (held.size > MAX_TRACKED) held.delete(held.keys().next().value!);
    return true;
  };
  /** One failure: counted unless its attempt was taken, and the key locked once the budget is spent. */
  const count = async (l: typeof accounts, key: string): Promise<void> => {
    try {
      const res = hold(l, key, -1) ? await l.limiter.get(key) : await l.limiter.penalty(key, 1);
      if (res && res.consumedPoints >= l.points) await l.limiter.block(key, lockoutSeconds);
    } catch (err) {
      onError(err as Error);
    }
  };

  return {
    async check(account, address, now) {
      const mine = await local.check(account, address, now);
      if (!mine.allowed) return mine;
      const [a, b] = await Promise.all([take(accounts, accountKey(account)), take(addresses, address)]);
      if (a) return { allowed: false, reason: 'account-locked', retryAfterMs: a };
      if (b) return { allowed: false, reason: 'address-locked', retryAfterMs: b };
      return { allowed: true };
    },
    async fail(account, address, now) {
      await local.fail(account, address, now);
      await Promise.all([count(accounts, accountKey(account)), count(addresses, address)]);
    },
    async succeed(account, address) {
      await local.succeed(account, address);
      try {
        await accounts.limiter.delete(accountKey(account));
        hold(accounts, accountKey(account), -1);
        // The address's attempt was no failure: given back.
        if (address !== undefined && hold(addresses, address, -1)) await addresses.limiter.reward(address, 1);
      } catch (err) {
        onError(err as Error);
      }
    },
  };
}
