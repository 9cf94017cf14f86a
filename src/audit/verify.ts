/**
 * Verifies the chain: pure over the records (in seq order), the seals and the public key. It stops
 * at the first problem and names the first record it cannot vouch for.
 *
 * What is detected (see DESIGN.md for the limits):
 * - an edited record (its hash no longer matches; a personal value no longer matches its commitment);
 * - a deleted record (a gap in seq, or the later records renumbered, which breaks their hashes);
 * - an inserted record (two records claim the same predecessor, or later records renumbered);
 * - two records swapped;
 * - a truncated tail (the signed head names a later record than the last one present);
 * - a rewritten chain (every hash recomputed after an edit): the signed head and the checkpoints no
 *   longer match, located to the checkpoint interval;
 * - a forged or altered seal (bad signature);
 * - a record marked erased that no signed erasure event after it covers (hand-made "erasure"), and
 *   an erasure event whose signed statement does not verify.
 */
import type { KeyObject } from 'node:crypto';
import { checkCommitments, computeHash, GENESIS_HASH } from './chain.js';
import { verifySeal, type Seal } from './checkpoint.js';
import { checkErasure, createErasureLedger } from './erasure.js';
import type { AuditRecord } from './record.js';

export type VerifyProblem =
  | 'hash-mismatch'
  | 'commitment-mismatch'
  | 'prev-hash-mismatch'
  | 'sequence-gap'
  | 'inserted'
  | 'reordered'
  | 'truncated'
  | 'beyond-head'
  | 'head-missing'
  | 'head-mismatch'
  | 'head-signature'
  | 'checkpoint-mismatch'
  | 'checkpoint-signature'
  | 'anchor-signature'
  | 'erasure-signature'
  | 'erasure-unrecorded';

export type VerifyResult =
  | { readonly ok: true; readonly count: number; readonly lastSeq: number; readonly erased: number }
  | {
      readonly ok: false;
      readonly firstBrokenSeq: number;
      readonly problem: VerifyProblem;
      readonly detail: string;
    };

export interface VerifyInput {
  readonly records: Iterable<AuditRecord> | AsyncIterable<AuditRecord>;
  readonly checkpoints: readonly Seal[];
  readonly head: Seal | undefined;
  readonly anchor: Seal | undefined;
  readonly publicKey: KeyObject;
}

type Failure = Extract<VerifyResult, { ok: false }>;

const fail = (firstBrokenSeq: number, problem: VerifyProblem, detail: string): Failure => ({
  ok: false,
  firstBrokenSeq,
  problem,
  detail,
});

export async function verifyAuditChain(input: VerifyInput): Promise<VerifyResult> {
  const sealProblem = checkSeals(input);
  if (sealProblem) return sealProblem;

  const anchorSeq = input.anchor?.seq ?? 0;
  const checkpointAt = new Map(input.checkpoints.map((cp) => [cp.seq, cp]));
  let expectedSeq = anchorSeq + 1;
  let expectedPrev = input.anchor?.hash ?? GENESIS_HASH;
  let prevOfPrev: string | undefined;
  let count = 0;
  let erased = 0;
  const erasures = createErasureLedger();
  // A broken link may be a swap, which only the next record can tell; hold the failure one step.
  let pending: { failure: Failure; record: AuditRecord; expectedPrev: string } | undefined;

  for await (const record of input.records) {
    if (pending) return refinePending(pending, record);
    if (record.seq < expectedSeq) {
      return fail(record.seq, 'reordered', `record ${record.seq} appears where ${expectedSeq} was expected`);
    }
    if (record.seq > expectedSeq) {
      const missing = record.seq - expectedSeq;
      return fail(expectedSeq, 'sequence-gap', `${missing} record(s) missing before seq ${record.seq}`);
    }
    const commitmentProblem = checkCommitments(record);
    if (commitmentProblem) return fail(record.seq, 'commitment-mismatch', commitmentProblem);

    if (computeHash(record) !== record.hash) {
      const inserted = insertedBefore(record, prevOfPrev);
      if (inserted) return inserted;
      pending = { failure: hashFailure(record, expectedPrev), record, expectedPrev };
      continue;
    }
    if (record.prevHash !== expectedPrev) {
      if (prevOfPrev !== undefined && record.prevHash === prevOfPrev) {
        return fail(
          record.seq - 1,
          'inserted',
          `records ${record.seq - 1} and ${record.seq} claim the same predecessor`,
        );
      }
      pending = {
        failure: fail(record.seq, 'prev-hash-mismatch', 'does not link to the previous record'),
        record,
        expectedPrev,
      };
      continue;
    }
    // Before the checkpoint check: a forged erasure event is located at itself, not to an interval.
    if (record.erasure) {
      const problem = checkErasure(record, record.erasure, input.publicKey);
      if (problem) return fail(record.seq, 'erasure-signature', problem);
      erasures.cover(record.erasure.ranges);
    }
    const checkpoint = checkpointAt.get(record.seq);
    if (checkpoint && checkpoint.hash !== record.hash) {
      return fail(
        firstSeqAfterCheckpointBefore(input.checkpoints, record.seq, anchorSeq),
        'checkpoint-mismatch',
        `signed checkpoint at seq ${record.seq} names a different hash; the chain was rewritten after an earlier edit`,
      );
    }
    if (record.erased) {
      erased += 1;
      erasures.erased(record.seq);
    }
    prevOfPrev = expectedPrev;
    expectedPrev = record.hash;
    expectedSeq += 1;
    count += 1;
  }
  if (pending) return pending.failure;

  const lastSeq = expectedSeq - 1;
  const unrecorded = erasures.firstUncovered();
  if (unrecorded !== undefined) {
    return fail(
      unrecorded,
      'erasure-unrecorded',
      `record ${unrecorded} is marked erased, but no signed erasure event covers it`,
    );
  }
  return checkTail(input, anchorSeq, lastSeq, expectedPrev) ?? { ok: true, count, lastSeq, erased };
}

function checkSeals(input: VerifyInput): Failure | undefined {
  const { anchor, head, publicKey } = input;
  if (anchor && !verifySeal('anchor', anchor, publicKey)) {
    return fail(anchor.seq + 1, 'anchor-signature', `anchor at seq ${anchor.seq} has an invalid signature`);
  }
  const checkpoints = [...input.checkpoints].sort((a, b) => a.seq - b.seq);
  for (const cp of checkpoints) {
    if (!verifySeal('checkpoint', cp, publicKey)) {
      return fail(
        cp.seq,
        'checkpoint-signature',
        `checkpoint at seq ${cp.seq} has an invalid signature (key ${cp.keyId})`,
      );
    }
  }
  if (head && !verifySeal('head', head, publicKey)) {
    return fail(
      head.seq,
      'head-signature',
      `head at seq ${head.seq} has an invalid signature (key ${head.keyId})`,
    );
  }
  if (anchor) {
    const atAnchor = checkpoints.find((cp) => cp.seq === anchor.seq);
    if (atAnchor && atAnchor.hash !== anchor.hash) {
      return fail(anchor.seq + 1, 'checkpoint-mismatch', 'the anchor and the checkpoint at its seq disagree');
    }
  }
  return undefined;
}

/**
 * A record whose hash only matches under the previous seq, linked to the record two back, was
 * renumbered by +1 to make room for a record inserted before it.
 */
function insertedBefore(record: AuditRecord, prevOfPrev: string | undefined): Failure | undefined {
  if (record.prevHash === prevOfPrev && computeHash({ ...record, seq: record.seq - 1 }) === record.hash) {
    return fail(
      record.seq - 1,
      'inserted',
      `a record was inserted at seq ${record.seq - 1} and later ones renumbered`,
    );
  }
  return undefined;
}

/**
 * A record whose hash only matches under the next seq was renumbered by -1 to close the gap of a
 * deleted record (unless the next record shows a swap); otherwise its content was edited.
 */
function hashFailure(record: AuditRecord, expectedPrev: string): Failure {
  if (record.prevHash !== expectedPrev && computeHash({ ...record, seq: record.seq + 1 }) === record.hash) {
    return fail(
      record.seq,
      'sequence-gap',
      `the record at seq ${record.seq} was deleted and later ones renumbered`,
    );
  }
  return fail(record.seq, 'hash-mismatch', 'content does not match its hash');
}

/** Two swapped records: the next record is the one this record says precedes it. */
function refinePending(
  pending: { failure: Failure; record: AuditRecord; expectedPrev: string },
  next: AuditRecord,
): Failure {
  if (next.hash === pending.record.prevHash && next.prevHash === pending.expectedPrev) {
    return fail(
      pending.record.seq,
      'reordered',
      `records ${pending.record.seq} and ${next.seq} are in swapped order`,
    );
  }
  return pending.failure;
}

function firstSeqAfterCheckpointBefore(checkpoints: readonly Seal[], seq: number, anchorSeq: number): number {
  const earlier = checkpoints.filter((cp) => cp.seq < seq && cp.seq > anchorSeq).map((cp) => cp.seq);
  return (earlier.length > 0 ? Math.max(...earlier) : anchorSeq) + 1;
}

function checkTail(
  input: VerifyInput,
  anchorSeq: number,
  lastSeq: number,
  lastHash: string,
): Failure | undefined {
  const { head } = input;
  const beyond = input.checkpoints.find((cp) => cp.seq > lastSeq);
  if (!head) {
    if (beyond)
      return fail(lastSeq + 1, 'truncated', `checkpoint at seq ${beyond.seq} is beyond the last record`);
    if (lastSeq > anchorSeq) {
      return fail(
        lastSeq + 1,
        'head-missing',
        `the signed head is missing; records after seq ${lastSeq} may be gone`,
      );
    }
    return undefined;
  }
  if (head.seq > lastSeq) {
    return fail(
      lastSeq + 1,
      'truncated',
      `signed head is at seq ${head.seq} but the last record is ${lastSeq}`,
    );
  }
  if (head.seq < lastSeq) {
    return fail(
      head.seq + 1,
      'beyond-head',
      `records after the signed head (seq ${head.seq}) were not written by the log`,
    );
  }
  if (head.hash !== lastHash) {
    return fail(
      firstSeqAfterCheckpointBefore(input.checkpoints, lastSeq + 1, anchorSeq),
      'head-mismatch',
      'the signed head names a different hash; the chain was rewritten after an edit',
    );
  }
  if (beyond)
    return fail(lastSeq + 1, 'truncated', `checkpoint at seq ${beyond.seq} is beyond the last record`);
  return undefined;
}
