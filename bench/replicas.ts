// `npm run bench -- replicas`: 1, 2 and 3 gateway processes (`portcullis start`) on one
// PostgreSQL schema and one Redis, behind the tests' round-robin loopback proxy, each loaded
// with the same tools/call as the other targets. Reports req/s, latency, and the cores the
// gateway processes used (their CPU time over the run's wall time, from /proc), side by side.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApiKey } from '../src/auth/index.js';
import { openPostgresStorage } from '../src/storage/index.js';
import { BUILT_IN_SCOPES } from '../src/tools/index.js';
import { startReplicas } from '../test/helpers/replicas.js';
import { SEED_NOTES, TOOL_CALL_BODY, TOOL_CALL_HEADERS, type LoadResult } from './request.js';

type RunLoad = (url: string, headers: Record<string, string>, seconds: number) => Promise<LoadResult>;

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** User + system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

interface Row {
  replicas: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  gatewayCores: number;
  proxyCores: number;
  non2xx: number;
  errors: number;
}

export async function benchReplicas(opts: { duration: number; runLoad: RunLoad }): Promise<void> {
  const rows: Row[] = [];
  for (const n of [1, 2, 3]) {
    process.stderr.write(`bench: ${n} replica(s) on PostgreSQL + Redis for ${opts.duration}s…\n`);
    const set = await startReplicas(n, '', {
      env: {
        PORTCULLIS_RATE_LIMITS__CREDENTIAL__POINTS: '100000000',
        PORTCULLIS_RATE_LIMITS__DAILY_QUOTA__POINTS: '100000000',
        PORTCULLIS_RATE_LIMITS__CONCURRENCY__MAX_IN_FLIGHT: '10000',
        PORTCULLIS_LOGGING__LEVEL: 'warn',
      },
    });
    try {
      const storage = await openPostgresStorage(set.db.config);
      const { key } = await createApiKey(
        storage.apiKeys,
        { owner: 'bench', label: 'bench', scopes: [...BUILT_IN_SCOPES], expiresAt: null },
        new Date(),
      );
      await storage.close();
      const headers = { ...TOOL_CALL_HEADERS, authorization: `Bearer ${key}` };
      for (const note of SEED_NOTES) {
        const res = await fetch(set.mcpUrl, {
          method: 'POST',
          headers: { ...headers, 'mcp-name': 'memory_save' },
          body: TOOL_CALL_BODY.replace('"memory_search"', '"memory_save"').replace(
            '{"query":"benchmark"}',
            JSON.stringify(note),
          ),
        });
        if (res.status !== 200) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
      }
      await opts.runLoad(set.mcpUrl, headers, 2);
      const pids = set.replicas.map((r) => r.child.pid!);
      const before = pids.map(cpuSeconds);
      const proxyBefore = process.cpuUsage();
      const started = performance.now();
      const result = await opts.runLoad(set.mcpUrl, headers, opts.duration);
      const wall = (performance.now() - started) / 1000;
      const used = pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - before[i]!, 0);
      const proxy = process.cpuUsage(proxyBefore);
      rows.push({
        replicas: n,
        reqPerSec: Math.round(result.requests),
        p50Ms: result.p50,
        p99Ms: result.p99,
        gatewayCores: Math.round((used / wall) * 100) / 100,
        proxyCores: Math.round(((proxy.user + proxy.system) / 1e6 / wall) * 100) / 100,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
      });
    } finally {
      await set.close();
    }
  }
  const table = [
    ['replicas', 'req/s', 'p50 ms', 'p99 ms', 'gateway cores', 'proxy cores', 'non-2xx', 'errors'],
    ...rows.map((r) =>
      [r.replicas, r.reqPerSec, r.p50Ms, r.p99Ms, r.gatewayCores, r.proxyCores, r.non2xx, r.errors].map(
        String,
      ),
    ),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) process.stdout.write(`${row.map((c, i) => c.padStart(widths[i]!)).join('  ')}\n`);
  process.stdout.write(
    `(${os.cpus().length} cores on this machine, shared with the load generator and the proxy)\n`,
  );
  const record = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    durationSeconds: opts.duration,
    rows,
  };
  const outDir = path.resolve(import.meta.dirname, '../../bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `replicas-${record.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  process.stdout.write(`results written to ${path.relative(process.cwd(), file)}\n`);
  if (rows.some((r) => r.non2xx > 0 || r.errors > 0)) {
    process.stderr.write('bench: errors during the run; figures are not valid\n');
    process.exitCode = 1;
  }
}
