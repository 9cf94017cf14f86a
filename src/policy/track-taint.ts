import type { ToolLabel } from '../tools/types.js';

/**
 * Which labels a caller's context has taken in. Keyed by stateful session id when there is one
 * (the model's context is the session), otherwise by the credential binding over a sliding
 * window (stateless clients carry their context between requests where we cannot see it, so
 * every call of that credential counts). Behind an interface: the scale-out work moves it to
 * Redis so replicas share it.
 */
export interface TaintTracker {
  /** Labels taken in under this key and still inside its window at `now`. */
  seen(key: TaintKey, now: number): Promise<ReadonlySet<ToolLabel>>;
  /** Records labels taken in at `now` (each restarts its window). */
  record(key: TaintKey, labels: readonly ToolLabel[], now: number): Promise<void>;
}

export type TaintKey = { readonly session: string } | { readonly binding: string };

const keyOf = (k: TaintKey) => ('session' in k ? `s:${k.session}` : `b:${k.binding}`);

/**
 * In-process tracker. A session's labels last `sessionTtlMs` after their last use (the session's
 * own idle lifetime, after which the session is gone anyway); a credential's last `windowMs`.
 * Memory is bounded by sweeping expired entries as records arrive.
 */
export function createMemoryTaintTracker(opts: { windowMs: number; sessionTtlMs: number }): TaintTracker {
  const entries = new Map<string, { labels: Map<ToolLabel, number>; ttl: number }>();
  let lastSweep = 0;
  const ttlOf = (k: TaintKey) => ('session' in k ? opts.sessionTtlMs : opts.windowMs);

  const sweep = (now: number) => {
    if (now - lastSweep < 60_000) return;
    lastSweep = now;
    for (const [key, e] of entries) {
      for (const [label, at] of e.labels) if (now - at > e.ttl) e.labels.delete(label);
      if (e.labels.size === 0) entries.delete(key);
    }
  };

  return {
    async seen(key, now) {
      const e = entries.get(keyOf(key));
      const out = new Set<ToolLabel>();
      if (!e) return out;
      for (const [label, at] of e.labels) if (now - at <= e.ttl) out.add(label);
      return out;
    },
    async record(key, labels, now) {
      sweep(now);
      if (labels.length === 0) return;
      const k = keyOf(key);
      const e = entries.get(k) ?? { labels: new Map<ToolLabel, number>(), ttl: ttlOf(key) };
      for (const label of labels) e.labels.set(label, now);
      entries.set(k, e);
    },
  };
}
