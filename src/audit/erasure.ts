/**
 * Erasure as a signed event, pure. An erasure removes the personal values and salt of records and
 * marks them `erased`; their hashes stay valid by design (the chain covers commitments), so an
 * erased record alone proves nothing about who erased it. Every genuine erasure therefore appends,
 * in the same transaction, an `admin` / `audit-erased` record whose `erasure` field lists the seqs
 * it erased, signed with the audit key (Ed25519) over
 *
 *   canonical({ v, kind: 'erasure', seq, time, ranges, keyId })
 *
 * where `seq` and `time` are the erasure record's own, so a statement cannot be moved to another
 * record. The field is hashed into the chain as well. The verifier requires every erased record to
 * be covered by a valid erasure event after it: nulling rows by hand, or stretching a genuine
 * event over more rows, needs the signing key.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { SigningKey } from './checkpoint.js';
import type { AuditErasure } from './record.js';

const ERASURE_VERSION = 'portcullis-audit-erasure/1';

type Range = readonly [number, number];

/** Ascending, distinct seqs as inclusive [first, last] ranges. */
export function toRanges(seqs: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const seq of [...new Set(seqs)].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && last[1] === seq - 1) last[1] = seq;
    else out.push([seq, seq]);
  }
  return out;
}

function statement(
  at: { readonly seq: number; readonly time: string },
  ranges: readonly Range[],
  keyId: string,
) {
  return Buffer.from(
    canonicalJson({
      v: ERASURE_VERSION,
      kind: 'erasure',
      seq: at.seq,
      time: at.time,
      ranges: ranges.map(([first, last]) => [first, last]),
      keyId,
    }),
    'utf8',
  );
}

/** The signed erasure statement for the record at `at`, naming the erased seqs. */
export function signErasure(
  at: { readonly seq: number; readonly time: string },
  erased: readonly number[],
  key: SigningKey,
): AuditErasure {
  const ranges = toRanges(erased);
  // Ed25519 takes no digest algorithm: the `null` is required by node:crypto for it.
  const signature = sign(null, statement(at, ranges, key.keyId), key.privateKey).toString('base64url');
  return { ranges, keyId: key.keyId, signature };
}

/**
 * Why the erasure statement of the record at `at` is not acceptable, or undefined when it is: its
 * ranges must be well formed and precede the record, and its signature must verify.
 */
export function checkErasure(
  at: { readonly seq: number; readonly time: string },
  erasure: AuditErasure,
  publicKey: KeyObject,
): string | undefined {
  // The statement comes from storage: anything may be in it.
  const shape = erasure as { ranges?: unknown; keyId?: unknown; signature?: unknown };
  if (
    !Array.isArray(shape.ranges) ||
    typeof shape.keyId !== 'string' ||
    typeof shape.signature !== 'string'
  ) {
    return `erasure at seq ${at.seq} is malformed`;
  }
  let previous = 0;
  for (const range of erasure.ranges) {
    const [first, last] = Array.isArray(range) ? range : [];
    const ok =
      Number.isSafeInteger(first) &&
      Number.isSafeInteger(last) &&
      (first as number) > previous &&
      (first as number) <= (last as number) &&
      (last as number) < at.seq;
    if (!ok) return `erasure at seq ${at.seq} lists a malformed range ${JSON.stringify(range)}`;
    previous = last as number;
  }
  try {
    const bytes = statement(at, erasure.ranges, erasure.keyId);
    if (verify(null, bytes, publicKey, Buffer.from(erasure.signature, 'base64url'))) return undefined;
  } catch {
    // An unencodable statement or a malformed signature is simply not a valid one.
  }
  return `erasure at seq ${at.seq} has an invalid signature (key ${erasure.keyId})`;
}

/** Binary search over ascending, disjoint ranges. */
function inRanges(ranges: readonly Range[], seq: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last] = ranges[mid] as Range;
    if (seq < first) hi = mid - 1;
    else if (seq > last) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * Erased records seen while walking the chain and not yet covered by an erasure event. Records come
 * in ascending seq order and an erasure event follows the records it covers.
 */
export function createErasureLedger() {
  let uncovered: number[] = [];
  return {
    erased(seq: number): void {
      uncovered.push(seq);
    },
    /** `ranges` must be ascending and disjoint (checkErasure checks it). */
    cover(ranges: readonly Range[]): void {
      uncovered = uncovered.filter((seq) => !inRanges(ranges, seq));
    },
    /** The first erased seq no erasure event covered. */
    firstUncovered: (): number | undefined => uncovered[0],
  };
}
