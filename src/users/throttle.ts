/**
 * Failed-login throttling per account and per client address. The arithmetic is pure (time is
 * an argument); the state is a bounded in-process map, which is enough for one replica and is
 * what the scale-out issue moves to the shared rate-counter store.
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
  check(account: string, address: string, now: number): ThrottleVerdict;
  fail(account: string, address: string, now: number): void;
  /** A successful login clears the account's failures (not the address's). */
  succeed(account: string): void;
}

const MAX_TRACKED = 10_000;

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
    check(account, address, now) {
      const a = accounts.get(account) ?? EMPTY;
      if (a.lockedUntil > now)
        return { allowed: false, reason: 'account-locked', retryAfterMs: a.lockedUntil - now };
      const b = addresses.get(address) ?? EMPTY;
      if (b.lockedUntil > now)
        return { allowed: false, reason: 'address-locked', retryAfterMs: b.lockedUntil - now };
      return { allowed: true };
    },
    fail(account, address, now) {
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
    succeed(account) {
      accounts.delete(account);
    },
  };
}
