// `node dist/bench/audit-seal.js [records] [rounds]`: main-thread cost of sealing one gateway-like
// audit record (salt, commitments, canonical body, SHA-256) and of signing the batch head, in CPU
// µs (process.cpuUsage, this thread only does this work), median of `rounds`. Prints one JSON line.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { sealRecord, signSeal, type AuditEntry } from '../src/audit/index.js';
import { keyIdOf } from '../src/audit/keys.js';
import { randomSalt } from '../src/audit/chain.js';

const n = Number(process.argv[2] ?? 20000);
const rounds = Number(process.argv[3] ?? 5);
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keys = { privateKey, publicKey, keyId: keyIdOf(publicKey), argsHmacKey: randomBytes(32) };
const entry: AuditEntry = {
  correlationId: '5f0c6a1e-9a1b-4c2d-8e3f-0123456789ab',
  sessionId: 'session-1',
  principal: 'bench',
  tenant: 'default',
  credentialId: 'key-1',
  authMethod: 'api-key',
  event: 'tool-call',
  tool: 'memory_search',
  args: { hash: 'ab'.repeat(32), shape: { query: 'string(5)', limit: 'number' } },
  scope: 'memory:read',
  decision: 'allow',
  reasons: [],
  outcome: 'ok',
  latencyMs: 1,
  bytesIn: 180,
  bytesOut: 900,
};
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const seal: number[] = [];
const sign: number[] = [];
let prevHash = '0'.repeat(64);
for (let r = 0; r < rounds; r++) {
  let t = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const at = { seq: i + 1, prevHash, time: new Date().toISOString(), salt: randomSalt() };
    prevHash = sealRecord(entry, at).hash;
  }
  let d = process.cpuUsage(t);
  seal.push((d.user + d.system) / n);
  t = process.cpuUsage();
  for (let i = 0; i < n / 10; i++) signSeal('head', { seq: i, hash: prevHash, time: 'x' }, keys);
  d = process.cpuUsage(t);
  sign.push((d.user + d.system) / (n / 10));
}
process.stdout.write(
  `${JSON.stringify({ records: n, rounds, sealUsPerRecord: Math.round(median(seal) * 10) / 10, signUsPerBatch: Math.round(median(sign) * 10) / 10 })}\n`,
);
