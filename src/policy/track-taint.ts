import type { TaintStore } from '../storage/index.js';
import type { ToolLabel } from '../tools/index.js';

/**
 * Which labels a person's context has taken in. Keyed by the person — the subject (an API
 * key's owner, an OAuth token's subject; the client itself under client credentials) — across
 * every session, credential and token they use: a model's context outlives any one of them and
 * is invisible to the gateway, so a new session or a second key must not start clean (issue 10,
 * finding 4). Labels last a sliding window (each new call carrying one restarts it) and live in
 * storage, so they survive a restart and every process on the same database shares them.
 */
export interface TaintTracker {
  /** Labels the person took in that are still inside their window at `now`. */
  seen(person: TaintKey, now: number): Promise<ReadonlySet<ToolLabel>>;
  /** Records labels taken in at `now` (each restarts its window). */
  record(person: TaintKey, labels: readonly ToolLabel[], now: number): Promise<void>;
}

/** The person taint belongs to; a Principal fits as it is. */
export interface TaintKey {
  readonly tenant: string;
  readonly subject: string;
}

/**
 * The stored key: the subject alone. The subject names the person (an API key's owner, an
 * OAuth token's `sub`); the tenant is the data a credential reaches, and one person's
 * credentials may name different ones (a key's tenant is its own, a token's is the person's),
 * so keying by both gave the same person a clean slate per credential kind. Two credentials
 * whose subjects coincide share caution, never lose it.
 */
const keyOf = (k: TaintKey) => JSON.stringify(['person', k.subject]);
// What the store hands back is checked against the closed set (the compiler keeps it complete).
const LABELS: Readonly<Record<ToolLabel, true>> = {
  'private-data': true,
  'untrusted-source': true,
  'external-sink': true,
};
const isLabel = (s: string): s is ToolLabel => Object.hasOwn(LABELS, s);

/**
 * When a label taken in at `now` expires: the window, rounded up to the next whole second. Never
 * sooner than the window (a label lasts at least as long as configured); and every call of one
 * second carries the same expiry, so the stores, which never move an expiry earlier, change
 * nothing for all but the first of them: a person calling a labelled tool many times a second
 * costs one real write a second (on SQLite, one WAL write that empties the read connection's
 * cache), not one per call.
 */
export function expiryOf(now: number, windowMs: number): number {
  return Math.ceil((now + windowMs) / 1000) * 1000;
}

export function createTaintTracker(store: TaintStore, opts: { windowMs: number }): TaintTracker {
  return {
    async seen(person, now) {
      return new Set((await store.live(keyOf(person), new Date(now))).filter(isLabel));
    },
    async record(person, labels, now) {
      if (labels.length === 0) return;
      await store.record(keyOf(person), labels, new Date(expiryOf(now, opts.windowMs)));
    },
  };
}
