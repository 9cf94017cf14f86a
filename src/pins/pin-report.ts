import type { DefinitionReport } from '../safety/index.js';
import type { Lockfile } from './lockfile.js';
import type { ObservedFile } from './observed.js';
import { pinStateOf, type PinState } from './pin-state.js';

/** One row of `portcullis pins list`. */
export interface PinRow {
  readonly upstream: string;
  readonly key: string;
  /** `removed`: approved, but the server no longer lists it. */
  readonly state: PinState | 'removed';
  readonly hash: string | undefined;
  readonly approvedAt: string | undefined;
  readonly scan: DefinitionReport | undefined;
}

/** Every pinned item across the lockfile and the last observation, sorted by upstream and key. */
export function pinReport(lock: Lockfile, observed: ObservedFile, upstream?: string): PinRow[] {
  const rows: PinRow[] = [];
  const names = new Set([...Object.keys(lock.upstreams), ...Object.keys(observed.upstreams)]);
  for (const name of [...names].sort()) {
    if (upstream !== undefined && name !== upstream) continue;
    const l = lock.upstreams[name];
    const items = observed.upstreams[name]?.items ?? {};
    const keys = new Set([...Object.keys(l?.approved ?? {}), ...Object.keys(items)]);
    for (const key of [...keys].sort()) {
      const item = items[key];
      rows.push({
        upstream: name,
        key,
        state: item ? pinStateOf(l, key, item.hash) : 'removed',
        hash: item?.hash ?? l?.approved[key]?.hash,
        approvedAt: l?.approved[key]?.approvedAt,
        scan: item?.scan,
      });
    }
  }
  return rows;
}
