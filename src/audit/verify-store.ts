import type { KeyObject } from 'node:crypto';
import { iterateRecords, type AuditStore } from './store.js';
import { verifyAuditChain, type VerifyResult } from './verify.js';

/** Reads the chain and its seals from a store and verifies them (the I/O around `verifyAuditChain`). */
export async function verifyAuditStore(store: AuditStore, publicKey: KeyObject): Promise<VerifyResult> {
  const [checkpoints, head, anchor] = await Promise.all([store.checkpoints(), store.head(), store.anchor()]);
  return verifyAuditChain({ records: iterateRecords(store), checkpoints, head, anchor, publicKey });
}
