import type { PinChange, PinStore } from '../storage/index.js';
import { pinReport } from './pin-report.js';
import { loadObserved, loadPins } from './pin-store.js';

export type PinDecision = 'approve' | 'reject';

export type PinDecisionResult =
  | { readonly ok: true; readonly done: string[]; readonly skipped: string[] }
  | { readonly ok: false; readonly problem: 'not-observed' | 'not-listed' | 'changed' };

/**
 * Approves or rejects what the gateway last observed of an upstream: one item, or all that are
 * not approved, in one transaction of the pin store (every running gateway polls its revision
 * and applies the change within a second). Each decision names the exact hash it was shown, so
 * a definition that changed meanwhile stays undecided. A bulk approval skips items the scan
 * calls malicious; those must be named. With `expectedHash` (the hash the person was shown),
 * a decision on one item is refused if the observation moved on meanwhile: with several
 * replicas writing observations, what is listed now may not be what the page showed.
 * Shared by `portcullis pins approve|reject` and the console's pins page.
 */
export async function decidePins(
  store: PinStore,
  decision: PinDecision,
  upstream: string,
  key: string | undefined,
  now: Date,
  expectedHash?: string,
): Promise<PinDecisionResult> {
  const { lock } = await loadPins(store);
  const observed = await loadObserved(store);
  const seen = observed.upstreams[upstream];
  if (!seen) return { ok: false, problem: 'not-observed' };
  const rows = pinReport(lock, observed, upstream).filter(
    (r) => r.state !== 'removed' && r.state !== 'approved',
  );
  let chosen = rows;
  const skipped: string[] = [];
  if (key !== undefined) {
    if (!Object.hasOwn(seen.items, key)) return { ok: false, problem: 'not-listed' };
    if (expectedHash !== undefined && seen.items[key]!.hash !== expectedHash)
      return { ok: false, problem: 'changed' };
    chosen = rows.filter((r) => r.key === key);
  } else if (decision === 'approve') {
    chosen = rows.filter((r) => r.scan?.verdict !== 'malicious');
    skipped.push(...rows.filter((r) => r.scan?.verdict === 'malicious').map((r) => r.key));
  }
  const keys = chosen.map((r) => r.key);
  const changes: PinChange[] = keys.map((k) => {
    const item = seen.items[k]!;
    return decision === 'approve'
      ? { op: 'approve', upstream, key: k, hash: item.hash, definition: item.definition, at: now }
      : { op: 'reject', upstream, key: k, hash: item.hash, at: now };
  });
  if (changes.length > 0) await store.apply(changes);
  return { ok: true, done: keys, skipped };
}
