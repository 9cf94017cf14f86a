/**
 * Caps calls in flight per key. rate-limiter-flexible counts events over time, not open intervals,
 * so this is a plain counter. It is per replica: with R replicas a credential may have up to
 * R × max calls in flight. That bounds what one client can tie up on each replica, which is what
 * the cap protects.
 */
export interface ConcurrencyLimiter {
  readonly max: number;
  /** A release function if a slot was free, otherwise undefined. Releasing twice is harmless. */
  acquire(key: string): (() => void) | undefined;
  inFlight(key: string): number;
}

export function createConcurrencyLimiter(max: number): ConcurrencyLimiter {
  const counts = new Map<string, number>();
  return {
    max,
    acquire(key) {
      const current = counts.get(key) ?? 0;
      if (current >= max) return undefined;
      counts.set(key, current + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const now = (counts.get(key) ?? 1) - 1;
        if (now <= 0) counts.delete(key);
        else counts.set(key, now);
      };
    },
    inFlight: (key) => counts.get(key) ?? 0,
  };
}
