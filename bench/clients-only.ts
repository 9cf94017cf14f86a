// Just the 1,000-clients part of `npm run bench`, for working on memory: starts target c with
// the same operator settings as run.ts, reads its RSS once idle, runs clients.js against it and
// reads its peak RSS (VmHWM). Repeats BENCH_RUNS times (a fresh process each) and prints each run
// and the medians as JSON lines.
// Usage: node dist/bench/clients-only.js [clients]   (BENCH_RUNS, default 3;
// BENCH_NODE_ARGS: extra node flags for the target, e.g. "--heapsnapshot-signal=SIGUSR2";
// BENCH_SNAPSHOT_DIR: with that flag, send SIGUSR2 idle and after the sessions are open;
// BENCH_TARGET_LOG: a file that gets the target's stdout, e.g. for --trace-gc; the target also
// reads BENCH_MEM_FILE (memoryUsage at idle and at the RSS peak) and BENCH_HEAP_SAMPLE_FILE).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GATEWAY_NODE_FLAGS } from '../src/gateway/heap.js';

const here = import.meta.dirname;
const CLIENTS = Number(process.argv[2] ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const SNAPSHOT_DIR = process.env.BENCH_SNAPSHOT_DIR;
const TARGET_LOG = process.env.BENCH_TARGET_LOG;

function statusKiB(pid: number, field: string): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
}
/** User + system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function runClients(url: string, key: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'clients.js'), url, key, String(CLIENTS), '3'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim()) as Record<string, unknown>)
        : reject(new Error(`clients ${code}`)),
    );
  });
}

async function once(run: number) {
  const child = spawn(
    process.execPath,
    [...GATEWAY_NODE_FLAGS, ...NODE_ARGS, path.join(here, 'targets/portcullis.js')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: SNAPSHOT_DIR ?? process.cwd(),
      env: {
        ...process.env,
        PORTCULLIS_SERVER__CONNECTIONS__MAX_TOTAL: String(CLIENTS * 2 + 64),
        PORTCULLIS_SERVER__CONNECTIONS__MAX_PER_ADDRESS: '0',
        PORTCULLIS_SESSIONS__MAX_PER_PRINCIPAL: String(Math.min(1000, CLIENTS)),
        PORTCULLIS_SESSIONS__MAX_TOTAL: String(CLIENTS * 2),
      },
    },
  );
  const [port, key] = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      if (TARGET_LOG) fs.appendFileSync(TARGET_LOG, d);
      out += d.toString();
      const line = /ready (.*)\n/.exec(out);
      if (line) resolve(line[1]!.split(' '));
    });
    child.once('exit', (code) => reject(new Error(`target exited with ${code}`)));
  });
  const pid = child.pid!;
  await sleep(1000);
  const idle = { rssMiB: mib(statusKiB(pid, 'VmRSS')), hwmMiB: mib(statusKiB(pid, 'VmHWM')) };
  if (SNAPSHOT_DIR) {
    child.kill('SIGUSR2');
    await sleep(8000);
  }
  const cpu0 = cpuSeconds(pid);
  const out = await runClients(`http://127.0.0.1:${port}/mcp`, key!);
  const after = {
    rssMiB: mib(statusKiB(pid, 'VmRSS')),
    peakRssMiB: mib(statusKiB(pid, 'VmHWM')),
    // The target's CPU for the fixed work of the clients (3 waves + the sessions): its cost,
    // less sensitive to a busy machine than the elapsed times.
    cpuSeconds: Math.round((cpuSeconds(pid) - cpu0) * 100) / 100,
  };
  if (SNAPSHOT_DIR) {
    child.kill('SIGUSR2');
    await sleep(15000);
  }
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  const line = { run, idle, ...after, ...out };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return line;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const lines = [];
for (let r = 1; r <= RUNS; r++) lines.push(await once(r));
process.stdout.write(
  `${JSON.stringify({
    runs: RUNS,
    medianIdleRssMiB: median(lines.map((l) => l.idle.rssMiB)),
    medianPeakRssMiB: median(lines.map((l) => l.peakRssMiB)),
    medianCpuSeconds: median(lines.map((l) => l.cpuSeconds)),
  })}\n`,
);
