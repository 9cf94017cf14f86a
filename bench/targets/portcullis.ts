// Target (c): Portcullis itself with every control built so far, on SQLite in a fresh data
// directory. The API key goes to the orchestrator on stdout.
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createApiKey } from '../../src/auth/index.js';
import { BUILT_IN_SCOPES } from '../../src/tools/index.js';
import { keepHeapNearLiveSize, startGateway } from '../../src/gateway/index.js';
import { LOAD_LIMITS_ENV } from '../load-limits.js';
import { SEED_NOTES, TOOL_CALL_HEADERS } from '../request.js';
import { startStallTrace, type StallTrace } from '../stall-trace.js';
import { profileOnSignal } from './profile-hook.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-portcullis-'));
// The measured call must never be refused: limits stay on with room for the load (load-limits.ts).
const env: NodeJS.ProcessEnv = { PORTCULLIS_METRICS__PORT: '0', ...LOAD_LIMITS_ENV };
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('PORTCULLIS_')) env[k] = v;
keepHeapNearLiveSize(); // as `portcullis start` does
const gw = await startGateway({
  dataDir: dir,
  port: 0,
  host: '127.0.0.1',
  env,
  logger: pino({ level: 'silent' }),
});
const { key } = await createApiKey(
  gw.storage.apiKeys,
  { owner: 'bench', label: 'bench', scopes: [...BUILT_IN_SCOPES], expiresAt: null },
  new Date(),
);
for (const n of SEED_NOTES) {
  const res = await fetch(gw.mcpUrl, {
    method: 'POST',
    headers: { ...TOOL_CALL_HEADERS, 'mcp-name': 'memory_save', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'memory_save',
        arguments: n,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });
  if (res.status !== 200) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
}
const saveProfile = profileOnSignal();
// BENCH_STALL_TRACE=file: event-loop stalls and GCs from readiness to SIGTERM (stall-trace.ts).
const trace: StallTrace | undefined = process.env.BENCH_STALL_TRACE
  ? startStallTrace(process.env.BENCH_STALL_TRACE)
  : undefined;
// BENCH_MEM_FILE=file: process.memoryUsage() every 20 ms from readiness to SIGTERM; the sample
// with the highest RSS and the maximum of each field go to the file as JSON.
const memFile = process.env.BENCH_MEM_FILE;
type Mem = NodeJS.MemoryUsage;
let atPeak: Mem | undefined;
const atIdle = memFile ? process.memoryUsage() : undefined;
const maxima: Partial<Mem> = {};
const memTimer = memFile
  ? setInterval(() => {
      const m = process.memoryUsage();
      if (!atPeak || m.rss > atPeak.rss) atPeak = m;
      for (const k of Object.keys(m) as (keyof Mem)[]) maxima[k] = Math.max(maxima[k] ?? 0, m[k]);
    }, 20)
  : undefined;
// BENCH_HEAP_SAMPLE_FILE=file: a sampling heap profile (allocations, with garbage kept) from
// readiness to SIGTERM, to see what each in-flight call allocates.
const heapFile = process.env.BENCH_HEAP_SAMPLE_FILE;
let heapProfiler: Session | undefined;
if (heapFile) {
  heapProfiler = new Session();
  heapProfiler.connect();
  await heapProfiler.post('HeapProfiler.enable');
  await heapProfiler.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
process.stdout.write(`ready ${gw.mcpUrl.port} ${key}\n`);
process.on('SIGTERM', () => {
  trace?.stop();
  if (memTimer) {
    clearInterval(memTimer);
    const mb = (o: Partial<Mem>) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(((v ?? 0) / 2 ** 20) * 10) / 10]));
    fs.writeFileSync(
      memFile!,
      JSON.stringify({ atIdleMiB: mb(atIdle ?? {}), atPeakMiB: mb(atPeak ?? {}), maximaMiB: mb(maxima) }),
    );
  }
  const saved = saveProfile();
  const heapSaved = heapProfiler
    ? heapProfiler
        .post('HeapProfiler.stopSampling')
        .then(({ profile }) => fs.writeFileSync(heapFile!, JSON.stringify(profile)))
    : Promise.resolve();
  void Promise.all([saved, heapSaved])
    .then(() => gw.close())
    .then(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
});
