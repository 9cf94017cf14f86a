import type { Lockfile, UpstreamLock } from './lockfile.js';

/**
 * Where one item stands against the lockfile:
 * - `approved`: its hash is the approved one;
 * - `pending`: never approved;
 * - `changed`: approved once, and now different (a rug pull until someone says otherwise);
 * - `rejected`: this exact definition was rejected.
 */
export type PinState = 'approved' | 'pending' | 'changed' | 'rejected';

export function pinStateOf(lock: UpstreamLock | undefined, key: string, hash: string): PinState {
  const approved = lock?.approved[key];
  if (approved?.hash === hash) return 'approved';
  if (lock?.rejected[key]?.some((r) => r.hash === hash)) return 'rejected';
  return approved ? 'changed' : 'pending';
}

/**
 * Approves observed items (pure: returns a new lockfile). Approving removes the hash from the
 * rejected list, so a rejection can be revisited.
 */
export function approveItems(
  lock: Lockfile,
  upstream: string,
  items: Readonly<Record<string, { hash: string; definition: unknown }>>,
  keys: readonly string[],
  now: Date,
): Lockfile {
  const current = lock.upstreams[upstream] ?? { approved: {}, rejected: {} };
  const approved = { ...current.approved };
  const rejected = { ...current.rejected };
  for (const key of keys) {
    const item = items[key];
    if (!item) continue;
    approved[key] = { hash: item.hash, approvedAt: now.toISOString(), definition: item.definition };
    const left = (rejected[key] ?? []).filter((r) => r.hash !== item.hash);
    if (left.length) rejected[key] = left;
    else delete rejected[key];
  }
  return { ...lock, upstreams: { ...lock.upstreams, [upstream]: { approved, rejected } } };
}

/** Records rejections (pure). A rejected definition stays blocked and raises no new alert. */
export function rejectItems(
  lock: Lockfile,
  upstream: string,
  items: Readonly<Record<string, { hash: string }>>,
  keys: readonly string[],
  now: Date,
): Lockfile {
  const current = lock.upstreams[upstream] ?? { approved: {}, rejected: {} };
  const rejected = { ...current.rejected };
  for (const key of keys) {
    const item = items[key];
    if (!item) continue;
    const list = rejected[key] ?? [];
    if (!list.some((r) => r.hash === item.hash))
      rejected[key] = [...list, { hash: item.hash, rejectedAt: now.toISOString() }];
  }
  return {
    ...lock,
    upstreams: { ...lock.upstreams, [upstream]: { approved: { ...current.approved }, rejected } },
  };
}
