import fs from 'node:fs';
import { ScanError } from './errors.js';
import { finding, type Finding, type InventoryItem, type Target } from './report.js';
import { isObject } from './session.js';

/**
 * Drift: what a server serves now against what it served before — a second listing in the same
 * scan, or the inventory of an earlier `--json` report (`--baseline`). Items are matched by kind
 * and name and compared by their pin hash, the same hash the gateway's lockfile holds.
 */

type Comparable = Pick<InventoryItem, 'kind' | 'name' | 'hash'>;
const keyOf = (i: Comparable) => `${i.kind}\u0000${i.name}`;

export interface BaselineTarget {
  readonly id: string;
  readonly inventory: readonly Comparable[];
}

/** Reads the targets of an earlier report; a file that is not one is a usage error (exit 2). */
export function readBaseline(file: string): BaselineTarget[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScanError('scan-bad-input', `--baseline ${file}: not a readable JSON file`, { cause: err });
  }
  if (!isObject(parsed) || parsed.schemaVersion !== 1 || !Array.isArray(parsed.targets)) {
    throw new ScanError(
      'scan-bad-input',
      `--baseline ${file}: not a portcullis scan --json report (schemaVersion 1)`,
    );
  }
  return parsed.targets.filter(isObject).map((t) => ({
    id: typeof t.id === 'string' ? t.id : '',
    inventory: (Array.isArray(t.inventory) ? t.inventory : [])
      .filter(isObject)
      .filter((i) => typeof i.kind === 'string' && typeof i.name === 'string' && typeof i.hash === 'string')
      .map((i) => ({
        kind: i.kind as InventoryItem['kind'],
        name: i.name as string,
        hash: i.hash as string,
      })),
  }));
}

/** The baseline entry for a target: the same id, or the only one when both reports have one. */
export function baselineFor(
  baseline: readonly BaselineTarget[],
  target: Target,
  targetCount: number,
): BaselineTarget | undefined {
  return (
    baseline.find((b) => b.id === target.id) ??
    (baseline.length === 1 && targetCount === 1 ? baseline[0] : undefined)
  );
}

/** Findings for what changed from `before` to `after`. */
export function compareInventories(
  before: readonly Comparable[],
  after: readonly Comparable[],
  id: string,
  mode: 'baseline' | 'relisting',
): Finding[] {
  const old = new Map(before.map((i) => [keyOf(i), i]));
  const now = new Map(after.map((i) => [keyOf(i), i]));
  const out: Finding[] = [];
  for (const [key, item] of now) {
    const loc = { kind: item.kind, name: item.name };
    const was = old.get(key);
    if (was === undefined) {
      out.push(
        mode === 'baseline'
          ? finding('drift/new-since-baseline', id, loc, `new ${item.kind} ${item.hash.slice(0, 19)}`)
          : finding('drift/listing-changed', id, loc, `appeared on the second listing`),
      );
    } else if (was.hash !== item.hash) {
      out.push(
        finding(
          mode === 'baseline' ? 'drift/changed-since-baseline' : 'drift/listing-changed',
          id,
          loc,
          `${was.hash.slice(0, 19)} → ${item.hash.slice(0, 19)}`,
        ),
      );
    }
  }
  for (const [key, item] of old) {
    if (now.has(key)) continue;
    const loc = { kind: item.kind, name: item.name };
    out.push(
      mode === 'baseline'
        ? finding('drift/removed-since-baseline', id, loc, `${item.kind} no longer listed`)
        : finding('drift/listing-changed', id, loc, 'gone on the second listing'),
    );
  }
  return out;
}
