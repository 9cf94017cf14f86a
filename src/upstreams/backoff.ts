/** Restart policy of an upstream: exponential back-off, then a circuit breaker. */
export const RESTART_POLICY = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  /** Consecutive failures (failed starts or crashes without a healthy listing) that open the circuit. */
  failuresToOpen: 5,
  openForMs: 60_000,
} as const;

/**
 * What to do after the `failures`-th consecutive failure (1-based): wait and retry, or open the
 * circuit (stop trying, fail calls fast) and try once more when it half-opens.
 */
export function nextRestart(failures: number): { delayMs: number; circuitOpen: boolean } {
  if (failures >= RESTART_POLICY.failuresToOpen)
    return { delayMs: RESTART_POLICY.openForMs, circuitOpen: true };
  const delayMs = Math.min(
    RESTART_POLICY.maxDelayMs,
    RESTART_POLICY.initialDelayMs * 2 ** Math.max(0, failures - 1),
  );
  return { delayMs, circuitOpen: false };
}
