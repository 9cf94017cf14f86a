// Shared fixtures for the audit tests. Not exported from index.ts.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { keyIdOf, type AuditKeys } from './keys.js';
import type { AuditEntry, AuditRecord } from './record.js';

export function makeTestKeys(): AuditKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), argsHmacKey: randomBytes(32) };
}

export function sampleEntry(i: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    correlationId: `req-${i}`,
    sessionId: `session-${i % 3}`,
    principal: i % 2 === 0 ? 'alice' : 'bob',
    tenant: 'acme',
    credentialId: `key-${i % 2}`,
    authMethod: 'api-key',
    event: 'tool-call',
    tool: i % 4 === 0 ? 'notes__search' : 'web__fetch',
    args: { hash: 'ab'.repeat(32), shape: { q: `string(${i})` } },
    decision: i % 5 === 0 ? 'deny' : 'allow',
    reasons: i % 5 === 0 ? ['scope-missing'] : [],
    outcome: i % 5 === 0 ? 'denied' : 'ok',
    latencyMs: 1.5 + i,
    bytesIn: 100 + i,
    bytesOut: 2000 + i,
    ...overrides,
  };
}

/** A controllable clock for tests. */
export function frozenClock(start = Date.parse('2025-01-01T00:00:00.000Z')) {
  let t = start;
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

/**
 * Committed-looking records for sink and mapping tests, numbered 1, 2, 3… per generator (no chain:
 * the hashes are placeholders). `base` sets the fields every record of the generator shares.
 */
export function recordMaker(
  base: Partial<AuditRecord> = {},
): (overrides?: Partial<AuditRecord>) => AuditRecord {
  let seq = 0;
  return (overrides = {}) => {
    seq += 1;
    return {
      seq,
      time: new Date().toISOString(),
      prevHash: '0'.repeat(64),
      hash: '1'.repeat(64),
      commitments: {},
      correlationId: `c-${seq}`,
      principal: 'alice',
      event: 'tool-call',
      tool: 'memory_save',
      decision: 'allow',
      reasons: [],
      outcome: 'ok',
      latencyMs: 1,
      bytesIn: 1,
      bytesOut: 1,
      ...base,
      ...overrides,
    };
  };
}
