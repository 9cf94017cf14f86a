import path from 'node:path';
import { LOCKFILE_NAME, readLockfile, writeLockfile } from './lockfile.js';
import { OBSERVED_FILE_NAME, readObserved } from './observed.js';
import { pinReport } from './pin-report.js';
import { approveItems, rejectItems } from './pin-state.js';

export type PinDecision = 'approve' | 'reject';

export type PinDecisionResult =
  | { readonly ok: true; readonly done: string[]; readonly skipped: string[] }
  | { readonly ok: false; readonly problem: 'not-observed' | 'not-listed' };

/**
 * Approves or rejects what the gateway last observed of an upstream: one item, or all that are
 * not approved, written to the data directory's lockfile (a running gateway polls it and applies
 * the change at once). A bulk approval skips items the scan calls malicious; those must be named.
 * Shared by `portcullis pins approve|reject` and the console's pins page.
 */
export function decidePins(
  dataDir: string,
  decision: PinDecision,
  upstream: string,
  key: string | undefined,
  now: Date,
): PinDecisionResult {
  const lockFile = path.join(dataDir, LOCKFILE_NAME);
  const lock = readLockfile(lockFile);
  const observed = readObserved(path.join(dataDir, OBSERVED_FILE_NAME));
  const seen = observed.upstreams[upstream];
  if (!seen) return { ok: false, problem: 'not-observed' };
  const rows = pinReport(lock, observed, upstream).filter(
    (r) => r.state !== 'removed' && r.state !== 'approved',
  );
  let chosen = rows;
  const skipped: string[] = [];
  if (key !== undefined) {
    if (!seen.items[key]) return { ok: false, problem: 'not-listed' };
    chosen = rows.filter((r) => r.key === key);
  } else if (decision === 'approve') {
    chosen = rows.filter((r) => r.scan?.verdict !== 'malicious');
    skipped.push(...rows.filter((r) => r.scan?.verdict === 'malicious').map((r) => r.key));
  }
  const keys = chosen.map((r) => r.key);
  const next =
    decision === 'approve'
      ? approveItems(lock, upstream, seen.items, keys, now)
      : rejectItems(lock, upstream, seen.items, keys, now);
  if (keys.length > 0) writeLockfile(lockFile, next);
  return { ok: true, done: keys, skipped };
}
