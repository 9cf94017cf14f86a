// `node dist/bench/audit-path.js [rate] [seconds] [concurrency]`: the audit write path alone, on a
// real SQLite audit store in a fresh directory. Appends `rate` entries per second (open loop, in
// bursts of `concurrency` sharing one turn of the event loop), and prints one JSON line: append
// latency from when the entry was due (p50/p99/max, ms), event-loop delay (p99/max, ms: how long the loop was blocked, i.e.
// what every other request on the gateway waits), records per batch, main-thread busy µs per
// record (event-loop utilisation), CPU µs per record (process user+system, all threads) and the
// commit times. BENCH_AUDIT_SYNC=1 commits on the main thread (no writer thread), for A/B.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createAuditLog, openSqliteAuditStore, type AuditEntry } from '../src/audit/index.js';
import type { AuditStore } from '../src/audit/store.js';
import { keyIdOf } from '../src/audit/keys.js';
import { startStallTrace } from './stall-trace.js';

const rate = Number(process.argv[2] ?? 200);
const seconds = Number(process.argv[3] ?? 10);
const burst = Number(process.argv[4] ?? 1);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-audit-'));
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keys = { privateKey, publicKey, keyId: keyIdOf(publicKey), argsHmacKey: randomBytes(32) };
const inner = openSqliteAuditStore({ file: path.join(dir, 'audit.db') });
// BENCH_STALL_TRACE=file: a timeline of event-loop stalls, GCs and commits (stall-trace.ts).
const trace = process.env.BENCH_STALL_TRACE ? startStallTrace(process.env.BENCH_STALL_TRACE) : undefined;
let batches = 0;
let records = 0;
const commits: number[] = [];
// Counts batches and times each commit as the caller sees it (for a synchronous store, the time
// the event loop was blocked by it).
const store: AuditStore = {
  ...inner,
  async appendBatch(build) {
    const start = performance.now();
    const batch = await inner.appendBatch(build);
    commits.push(performance.now() - start);
    trace?.mark('appendBatch', start, performance.now(), { records: batch?.records.length ?? 0 });
    if (batch && batch.records.length > 0) {
      batches++;
      records += batch.records.length;
    }
    return batch;
  },
  async appendAfter(expected, batch) {
    const start = performance.now();
    const result = await inner.appendAfter!(expected, batch);
    commits.push(performance.now() - start);
    trace?.mark('appendAfter', start, performance.now(), { records: batch.records.length, result });
    if (result === 'committed') {
      batches++;
      records += batch.records.length;
    }
    return result;
  },
};
if (process.env.BENCH_AUDIT_SYNC) delete (store as { appendAfter?: unknown }).appendAfter;
// As the gateway does at start (build-audit.ts): until the thread has opened its connection,
// batches commit on the main thread, which is start-up, not the steady state measured here.
else await inner.writerReady();
const log = await createAuditLog({ store, keys });

const entry = (i: number): AuditEntry => ({
  correlationId: `req-${i}-${randomBytes(8).toString('hex')}`,
  sessionId: `session-${i % 7}`,
  principal: 'bench',
  tenant: 'default',
  credentialId: 'key-1',
  authMethod: 'api-key',
  event: 'tool-call',
  tool: 'memory_search',
  args: { hash: randomBytes(32).toString('hex'), shape: { query: 'string(5)', limit: 'number' } },
  scope: 'memory:read',
  decision: 'allow',
  reasons: [],
  outcome: 'ok',
  latencyMs: 1,
  bytesIn: 180,
  bytesOut: 900,
});

const latencies: number[] = [];
let failures = 0;
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const cpu0 = process.cpuUsage();
const elu0 = performance.eventLoopUtilization();
const t0 = performance.now();
const total = Math.round(rate * seconds);
const inflight: Promise<void>[] = [];
for (let i = 0; i < total; i += burst) {
  const due = t0 + (i / rate) * 1000;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  for (let j = 0; j < burst && i + j < total; j++) {
    // Timed from when the entry was due, not when the loop got round to it: time the event loop
    // spent blocked (a synchronous fsync) counts, as it does for a client.
    const start = due;
    inflight.push(
      log.append(entry(i + j)).then(
        () => {
          latencies.push(performance.now() - start);
        },
        () => {
          failures++;
        },
      ),
    );
  }
}
await Promise.all(inflight);
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const elu = performance.eventLoopUtilization(elu0);
loop.disable();
trace?.stop();
await log.close();
await inner.close();
fs.rmSync(dir, { recursive: true, force: true });
latencies.sort((a, b) => a - b);
const at = (q: number) =>
  Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 1000) /
  1000;
process.stdout.write(
  `${JSON.stringify({
    rate,
    burst,
    records: latencies.length,
    failures,
    achievedRate: Math.round(latencies.length / elapsed),
    appendP50Ms: at(0.5),
    appendP99Ms: at(0.99),
    appendMaxMs: at(1),
    loopDelayP99Ms: Math.round(loop.percentile(99) / 1e4) / 100,
    loopDelayMaxMs: Math.round(loop.max / 1e4) / 100,
    recordsPerBatch: Math.round((records / Math.max(1, batches)) * 10) / 10,
    commitP50Ms:
      Math.round((commits.sort((a, b) => a - b)[Math.floor(commits.length / 2)] ?? 0) * 1000) / 1000,
    commitMaxMs: Math.round((commits.at(-1) ?? 0) * 1000) / 1000,
    // Main-thread time (the event loop busy, which every request shares), per record.
    loopBusyUsPerRecord: Math.round((elu.active * 1000) / Math.max(1, latencies.length)),
    cpuUsPerRecord: Math.round((cpu.user + cpu.system) / Math.max(1, latencies.length)),
  })}\n`,
);
