/**
 * Signed statements about the chain ("seals"), all Ed25519 over the canonical JSON of
 * `{ v, kind, seq, hash, time, keyId }`:
 *
 * - `checkpoint`: written every N records and at clean shutdown; kept.
 * - `head`: the latest record, rewritten in the same transaction as every batch, so the signed head
 *   always names the last committed record. Deleting the tail cannot be hidden without the key.
 * - `anchor`: where the chain starts after retention pruned older records.
 *
 * The `kind` is inside the signed bytes so one kind of seal can never be replayed as another (an old
 * checkpoint cannot pose as the head, a checkpoint cannot pose as a prune anchor).
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.js';

export type SealKind = 'checkpoint' | 'head' | 'anchor';

export interface Seal {
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
  readonly keyId: string;
  /** base64url Ed25519 signature. */
  readonly signature: string;
}

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly keyId: string;
}

const SEAL_VERSION = 'portcullis-audit-seal/1';

function sealBytes(kind: SealKind, seal: Omit<Seal, 'signature'>): Buffer {
  return Buffer.from(
    canonicalJson({
      v: SEAL_VERSION,
      kind,
      seq: seal.seq,
      hash: seal.hash,
      time: seal.time,
      keyId: seal.keyId,
    }),
    'utf8',
  );
}

export function signSeal(
  kind: SealKind,
  at: { readonly seq: number; readonly hash: string; readonly time: string },
  key: SigningKey,
): Seal {
  const unsigned = { seq: at.seq, hash: at.hash, time: at.time, keyId: key.keyId };
  // Ed25519 takes no digest algorithm: the `null` is required by node:crypto for it.
  const signature = sign(null, sealBytes(kind, unsigned), key.privateKey).toString('base64url');
  return { ...unsigned, signature };
}

export function verifySeal(kind: SealKind, seal: Seal, publicKey: KeyObject): boolean {
  try {
    return verify(null, sealBytes(kind, seal), publicKey, Buffer.from(seal.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** Sequence numbers in (fromSeq, toSeq] at which a checkpoint is due, every `every` records. */
export function checkpointsDue(fromSeq: number, toSeq: number, every: number): number[] {
  const due: number[] = [];
  for (let seq = Math.floor(fromSeq / every) * every + every; seq <= toSeq; seq += every) due.push(seq);
  return due;
}
