import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkErasure, createErasureLedger, signErasure, toRanges } from './erasure.js';
import type { AuditErasure } from './record.js';
import { makeTestKeys } from './test-support.js';

const keys = makeTestKeys();
const at = { seq: 20, time: '2025-06-01T12:00:00.000Z' };

describe('erasure statements', () => {
  it('name erased seqs as ascending, disjoint ranges', () => {
    assert.deepEqual(toRanges([9, 2, 3, 4, 7, 3]), [
      [2, 4],
      [7, 7],
      [9, 9],
    ]);
    assert.deepEqual(toRanges([]), []);
  });

  it('verify for the record they were signed for, and for no other', () => {
    const erasure = signErasure(at, [2, 3, 5], keys);
    assert.equal(checkErasure(at, erasure, keys.publicKey), undefined);
    assert.match(checkErasure({ ...at, seq: 21 }, erasure, keys.publicKey) ?? '', /invalid signature/);
    assert.match(
      checkErasure({ ...at, time: '2025-06-01T12:00:01.000Z' }, erasure, keys.publicKey) ?? '',
      /invalid signature/,
    );
    assert.match(checkErasure(at, erasure, makeTestKeys().publicKey) ?? '', /invalid signature/);
  });

  it('refuse stretched, malformed or forward-looking ranges', () => {
    const erasure = signErasure(at, [2, 3], keys);
    const stretched: AuditErasure = { ...erasure, ranges: [[2, 4]] };
    assert.match(checkErasure(at, stretched, keys.publicKey) ?? '', /invalid signature/);
    for (const ranges of [
      [[3, 2]],
      [[0, 1]],
      [[2, 20]],
      [
        [5, 6],
        [4, 4],
      ],
      [[1.5, 2]],
      [['1', 2]],
      [7],
    ]) {
      assert.match(
        checkErasure(at, { ...erasure, ranges } as unknown as AuditErasure, keys.publicKey) ?? '',
        /malformed range/,
        JSON.stringify(ranges),
      );
    }
    assert.match(
      checkErasure(at, { keyId: 'k', signature: 's' } as unknown as AuditErasure, keys.publicKey) ?? '',
      /malformed/,
    );
  });

  it('the ledger reports the first erased record no event covered', () => {
    const ledger = createErasureLedger();
    for (const seq of [2, 4, 6, 9]) ledger.erased(seq);
    ledger.cover([
      [1, 2],
      [6, 8],
    ]);
    assert.equal(ledger.firstUncovered(), 4);
    ledger.cover([[4, 4]]);
    assert.equal(ledger.firstUncovered(), 9);
    ledger.cover([[9, 9]]);
    assert.equal(ledger.firstUncovered(), undefined);
  });
});
