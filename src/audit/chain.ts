/**
 * The hash chain, pure. Each record's hash is
 *
 *   hash = SHA-256( prevHash || canonical(body) )
 *
 * where `prevHash` is the previous record's hash as 64 ASCII hex characters (the genesis value is 64
 * zeros, or the prune anchor's hash), and `body` is the record without `hash`, `prevHash`, `salt`,
 * `erased` and the personal values, but *with* their commitments:
 *
 *   commitment(field) = HMAC-SHA256( key = salt, canonical([field, value]) )
 *
 * The salt is 32 random bytes per record. Because the chain covers commitments rather than values,
 * erasure can delete the values and the salt and every hash still verifies; without the salt a
 * commitment reveals nothing, even about a low-entropy value such as a user name (a bare hash of it
 * could be brute-forced). The field name inside the commitment stops a value from being moved to
 * another field. See DESIGN.md.
 */
import { createHash, createHmac, randomFillSync } from 'node:crypto';
import { canonicalJson, type JsonValue } from './canonical.js';
import {
  PERSONAL_FIELDS,
  type AuditEntry,
  type AuditErasure,
  type AuditRecord,
  type Commitments,
  type PersonalField,
} from './record.js';

export const GENESIS_HASH = '0'.repeat(64);

const SALT_BYTES = 32;
/** Salts are cut from a pool filled by the CSPRNG 128 at a time (one call instead of 128); each
 * byte of the pool is handed out once. */
const saltPool = Buffer.alloc(SALT_BYTES * 128);
let saltOffset = saltPool.length;

/** A fresh random 32-byte salt, as hex (one per record). */
export function randomSalt(): string {
  if (saltOffset === saltPool.length) {
    randomFillSync(saltPool);
    saltOffset = 0;
  }
  const salt = saltPool.toString('hex', saltOffset, saltOffset + SALT_BYTES);
  saltOffset += SALT_BYTES;
  return salt;
}
const BODY_VERSION = 1;

/** Where a new record goes: its place in the chain, its time and its fresh random salt (hex). */
export interface ChainPosition {
  readonly seq: number;
  readonly prevHash: string;
  readonly time: string;
  readonly salt: string;
}

function commitField(salt: string | Buffer, field: PersonalField, value: JsonValue): string {
  return createHmac('sha256', typeof salt === 'string' ? Buffer.from(salt, 'hex') : salt)
    .update(canonicalJson([field, value]))
    .digest('hex');
}

function personalValue(source: AuditEntry, field: PersonalField): JsonValue | undefined {
  return source[field] as JsonValue | undefined;
}

function commitAll(source: AuditEntry, saltHex: string): Commitments {
  const out: Commitments = {};
  const salt = Buffer.from(saltHex, 'hex');
  for (const field of PERSONAL_FIELDS) {
    const value = personalValue(source, field);
    if (value !== undefined) out[field] = commitField(salt, field, value);
  }
  return out;
}

/** The object whose canonical form is hashed: everything but the personal values, salt and marker. */
function hashedBody(record: Omit<AuditRecord, 'hash'>): JsonValue {
  const body: Record<string, JsonValue | undefined> = {
    v: BODY_VERSION,
    seq: record.seq,
    time: record.time,
    correlationId: record.correlationId,
    authMethod: record.authMethod,
    event: record.event,
    tool: record.tool,
    upstream: record.upstream,
    decision: record.decision,
    reasons: [...record.reasons],
    scope: record.scope,
    outcome: record.outcome,
    errorCode: record.errorCode,
    latencyMs: record.latencyMs,
    bytesIn: record.bytesIn,
    bytesOut: record.bytesOut,
    commitments: { ...record.commitments },
    // Absent on every record but an erasure event, and then left out of the canonical form.
    erasure: record.erasure && {
      ranges: record.erasure.ranges.map(([first, last]) => [first, last]),
      keyId: record.erasure.keyId,
      signature: record.erasure.signature,
    },
  };
  return body as JsonValue;
}

export function computeHash(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256')
    .update(record.prevHash, 'ascii')
    .update(canonicalJson(hashedBody(record)))
    .digest('hex');
}

/**
 * Builds the stored record for an entry at a chain position. Only known fields are copied, so a
 * stray property on the caller's object can neither reach storage nor escape the hash. `erasure`
 * is given only for an erasure event (erasure.ts), signed for this position.
 */
export function sealRecord(entry: AuditEntry, at: ChainPosition, erasure?: AuditErasure): AuditRecord {
  const commitments = commitAll(entry, at.salt);
  const unsealed: Omit<AuditRecord, 'hash'> = dropUndefined({
    seq: at.seq,
    time: at.time,
    prevHash: at.prevHash,
    correlationId: entry.correlationId,
    sessionId: entry.sessionId,
    principal: entry.principal,
    tenant: entry.tenant,
    clientId: entry.clientId,
    credentialId: entry.credentialId,
    authMethod: entry.authMethod,
    connectionId: entry.connectionId,
    upstreamSubject: entry.upstreamSubject,
    event: entry.event,
    tool: entry.tool,
    upstream: entry.upstream,
    args: entry.args,
    decision: entry.decision,
    reasons: [...entry.reasons],
    scope: entry.scope,
    outcome: entry.outcome,
    errorCode: entry.errorCode,
    latencyMs: entry.latencyMs,
    bytesIn: entry.bytesIn,
    bytesOut: entry.bytesOut,
    salt: Object.keys(commitments).length > 0 ? at.salt : undefined,
    commitments,
    erasure,
  });
  return { ...unsealed, hash: computeHash(unsealed) };
}

/**
 * Checks a record's personal values against its commitments. Returns a description of the first
 * disagreement, or undefined when they agree. An erased record must hold no values and no salt.
 */
export function checkCommitments(record: AuditRecord): string | undefined {
  const present = PERSONAL_FIELDS.filter((f) => record[f] !== undefined);
  for (const field of PERSONAL_FIELDS) {
    if (record[field] !== undefined && record.commitments[field] === undefined)
      return `${field} has no commitment`;
  }
  if (record.salt === undefined) {
    if (present.length > 0) return `${present.join(', ')} present without a salt`;
    if (!record.erased && Object.keys(record.commitments).length > 0)
      return 'salt missing on a record not marked erased';
    return undefined;
  }
  for (const field of Object.keys(record.commitments) as PersonalField[]) {
    const value = personalValue(record, field);
    if (value === undefined) {
      if (!record.erased) return `${field} missing on a record not marked erased`;
      continue;
    }
    if (commitField(record.salt, field, value) !== record.commitments[field])
      return `${field} does not match its commitment`;
  }
  return undefined;
}

/** The record with its personal values and salt removed; commitments and hash are kept. */
export function eraseRecord(record: AuditRecord): AuditRecord {
  const copy: Record<string, unknown> = { ...record };
  for (const field of PERSONAL_FIELDS) delete copy[field];
  delete copy.salt;
  copy.erased = true;
  return copy as unknown as AuditRecord;
}

/** A copy without the undefined properties (built up, not deleted from: `delete` makes slow objects). */
function dropUndefined<T extends object>(obj: T): T {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) if (value !== undefined) copy[key] = value;
  return copy as T;
}
