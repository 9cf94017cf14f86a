import type { UpstreamHealth } from '../upstreams/index.js';

/** How long one dependency may take to answer before it counts as down. */
export const READINESS_TIMEOUT_MS = 1000;

export type DependencyState = 'up' | 'down';

export interface DependencyCheck {
  readonly state: DependencyState;
  readonly latencyMs: number;
  /** Why it is down, in the operator's words (never a stack or a connection string). */
  readonly error?: string;
}

/** What /readyz asks, each a cheap round trip; a check that is undefined is not configured. */
export interface ReadinessProbes {
  /** `SELECT 1` on the write connection (or SQLite's). */
  readonly storage: () => Promise<void>;
  /** The audit store answers for its head: the writer every tool call needs. */
  readonly audit: (() => Promise<void>) | undefined;
  /** Redis PING, when `redis.url` is set. */
  readonly redis: (() => Promise<void>) | undefined;
  readonly upstreams: (() => readonly UpstreamHealth[]) | undefined;
}

export interface Readiness {
  /** `not-ready` (503) when storage or audit is down; `degraded` when only Redis or an upstream is. */
  readonly status: 'ready' | 'degraded' | 'not-ready';
  readonly checks: {
    readonly storage: DependencyCheck;
    readonly audit?: DependencyCheck;
    readonly redis?: DependencyCheck;
  };
  readonly upstreams?: readonly { name: string; state: string; restarts: number }[];
}

async function probe(check: () => Promise<void>, timeoutMs: number): Promise<DependencyCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { state: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      state: 'down',
      latencyMs: Math.round(performance.now() - started),
      // The first line only, and no URL: a driver's message may name the host and the role.
      error: message
        .split('\n')[0]!
        .replace(/\w+:\/\/\S+/g, '<url>')
        .slice(0, 200),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Asks every dependency at once. Storage and audit make the replica unready: without them no
 * tool call can run (nothing runs unaudited), so the load balancer should send calls elsewhere.
 * Redis down only degrades (limits count per replica), and so does an upstream restarting (the
 * other tools are served).
 */
export async function checkReadiness(
  probes: ReadinessProbes,
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<Readiness> {
  const [storage, audit, redis] = await Promise.all([
    probe(probes.storage, timeoutMs),
    probes.audit && probe(probes.audit, timeoutMs),
    probes.redis && probe(probes.redis, timeoutMs),
  ]);
  const upstreams = (probes.upstreams?.() ?? []).map((u) => ({
    name: u.name,
    state: u.state,
    restarts: u.restarts,
  }));
  const fatal = storage.state === 'down' || audit?.state === 'down';
  const degraded = redis?.state === 'down' || upstreams.some((u) => u.state !== 'up');
  return {
    status: fatal ? 'not-ready' : degraded ? 'degraded' : 'ready',
    checks: { storage, ...(audit ? { audit } : {}), ...(redis ? { redis } : {}) },
    ...(upstreams.length ? { upstreams } : {}),
  };
}

/** What an unauthenticated caller of /readyz is told: the state of each kind of dependency. */
export interface PublicReadiness {
  readonly status: Readiness['status'];
  readonly checks: Readonly<Record<'storage' | 'audit' | 'redis' | 'upstreams', { state: DependencyState }>>;
}

/**
 * /readyz answers anyone (a load balancer probes it without a credential), so it says only what
 * routing needs: ready or not, and which kind of dependency is down. The names of the upstreams,
 * their restarts, latencies and the drivers' error text (hosts, ports, roles) map the deployment
 * for an attacker: they are for the operator, on the metrics listener and in the log.
 */
export function publicReadiness(r: Readiness): PublicReadiness {
  const checks: Partial<Record<keyof PublicReadiness['checks'], { state: DependencyState }>> = {
    storage: { state: r.checks.storage.state },
  };
  if (r.checks.audit) checks.audit = { state: r.checks.audit.state };
  if (r.checks.redis) checks.redis = { state: r.checks.redis.state };
  if (r.upstreams) checks.upstreams = { state: r.upstreams.every((u) => u.state === 'up') ? 'up' : 'down' };
  return { status: r.status, checks: checks as PublicReadiness['checks'] };
}

/** How long one readiness answer is reused (a load balancer probes every few seconds). */
export const READINESS_REUSE_MS = 1000;

/**
 * What /readyz runs per request. Anyone may call /readyz, so its cost must not grow with the
 * callers: requests that arrive while a check runs share it, and its answer is reused for
 * `reuseMs`, so a flood costs at most one round trip per dependency per second. (One check per
 * request let a few hundred concurrent callers queue the pool past the probe limit and make a
 * healthy replica report 503, taking it out of the load balancer.)
 */
export function createReadinessCheck(
  probes: ReadinessProbes,
  opts: { reuseMs?: number; timeoutMs?: number; now?: () => number } = {},
): () => Promise<Readiness> {
  const reuseMs = opts.reuseMs ?? READINESS_REUSE_MS;
  const now = opts.now ?? performance.now.bind(performance);
  let running: Promise<Readiness> | undefined;
  let last: { at: number; value: Readiness } | undefined;
  return () => {
    if (last && now() - last.at < reuseMs) return Promise.resolve(last.value);
    running ??= checkReadiness(probes, opts.timeoutMs).then(
      (value) => {
        last = { at: now(), value };
        running = undefined;
        return value;
      },
      (err: unknown) => {
        running = undefined;
        throw err;
      },
    );
    return running;
  };
}
