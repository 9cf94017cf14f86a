// `npm run bench`: measures the targets side by side in one run, on loopback, each served by its
// own process and loaded by autocannon in another. Targets take turns over several rounds (a
// fresh process each time) and the median round is reported, so a burst of noise on the machine
// cannot decide a ratio. Prints req/s, p50/p99 latency and peak RSS per target and the ratios;
// writes every round and the medians under bench/results/.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TOOL_CALL_BODY, TOOL_CALL_HEADERS } from './request.js';

const here = import.meta.dirname;
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

interface Target {
  readonly id: string;
  readonly label: string;
  readonly script: string;
  readonly env?: NodeJS.ProcessEnv;
}

const TARGETS: Target[] = [
  { id: 'a', label: 'plain Hono JSON endpoint', script: 'targets/hono-plain.js' },
  { id: 'b', label: 'bare SDK v2 server, same tool, no controls', script: 'targets/sdk-bare.js' },
  { id: 'c', label: 'Portcullis, every control built so far', script: 'targets/portcullis.js' },
  {
    id: 'c0',
    label: 'Portcullis, audit and rate limits off',
    script: 'targets/portcullis.js',
    env: { PORTCULLIS_AUDIT__ENABLED: 'false', PORTCULLIS_RATE_LIMITS__ENABLED: 'false' },
  },
];

interface Measured {
  id: string;
  label: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMiB: number;
  non2xx: number;
  errors: number;
  total: number;
}

function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

async function measure(target: Target): Promise<Measured> {
  const server = spawn(process.execPath, [path.join(here, target.script)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...target.env },
  });
  const ready = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /ready (.*)\n/.exec(out);
      if (line) resolve(line[1]!.split(' '));
    });
    server.once('exit', (code) => reject(new Error(`${target.id} exited with ${code}`)));
  });
  try {
    return await measureServing(target, server.pid!, ready);
  } finally {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  }
}

async function measureServing(target: Target, pid: number, ready: string[]): Promise<Measured> {
  const [port, key] = ready;
  const headers: Record<string, string> = {
    ...TOOL_CALL_HEADERS,
    ...(key ? { authorization: `Bearer ${key}` } : {}),
  };
  const url = `http://127.0.0.1:${port}/mcp`;

  // A short warm-up lets the JIT settle before the measured run.
  const probe = await fetch(url, { method: 'POST', headers, body: TOOL_CALL_BODY });
  const probeText = await probe.text();
  if (probe.status !== 200 || !probeText.includes('benchmark')) {
    throw new Error(
      `${target.id} did not answer the tool call correctly: ${probe.status} ${probeText.slice(0, 300)}`,
    );
  }
  await runLoad(url, headers, 2);
  const result = await runLoad(url, headers, DURATION);
  const rss = peakRssMiB(pid);
  return {
    id: target.id,
    label: target.label,
    reqPerSec: Math.round(result.requests),
    p50Ms: result.p50,
    p99Ms: result.p99,
    peakRssMiB: rss,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.total,
  };
}

function runLoad(
  url: string,
  headers: Record<string, string>,
  seconds: number,
): Promise<{
  requests: number;
  total: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(here, 'load.js'),
        url,
        JSON.stringify(headers),
        TOOL_CALL_BODY,
        String(seconds),
        String(CONNECTIONS),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
      else resolve(JSON.parse(out.trim()) as never);
    });
  });
}

// `npm run bench -- replicas`: 1, 2 and 3 replicas on PostgreSQL + Redis instead (replicas.ts).
if (process.argv[2] === 'replicas') {
  const { benchReplicas } = await import('./replicas.js');
  await benchReplicas({
    duration: DURATION,
    runLoad: (url, headers, seconds) => runLoad(url, headers, seconds),
  });
  process.exit();
}

const rounds: Measured[][] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const measured: Measured[] = [];
  for (const t of TARGETS) {
    process.stderr.write(
      `bench: round ${round}/${ROUNDS}, ${t.id} (${t.label}) for ${DURATION}s with ${CONNECTIONS} connections…\n`,
    );
    measured.push(await measure(t));
  }
  rounds.push(measured);
}
/** Per target, the round with the median throughput (its latencies and RSS come with it). */
const results: Measured[] = TARGETS.map((t) => {
  const runs = rounds.map((r) => r.find((m) => m.id === t.id)!).sort((x, y) => x.reqPerSec - y.reqPerSec);
  return runs[Math.floor(runs.length / 2)]!;
});
const by = (id: string) => results.find((r) => r.id === id)!;
const ratio = (x: number, y: number) => Math.round((x / y) * 100) / 100;
const ratios = {
  'c/b': ratio(by('c').reqPerSec, by('b').reqPerSec),
  'c/a': ratio(by('c').reqPerSec, by('a').reqPerSec),
  'c/c0': ratio(by('c').reqPerSec, by('c0').reqPerSec),
};

const table = [
  ['target', 'req/s', 'p50 ms', 'p99 ms', 'peak RSS MiB', 'non-2xx', 'errors'],
  ...results.map((r) =>
    [`${r.id}: ${r.label}`, r.reqPerSec, r.p50Ms, r.p99Ms, r.peakRssMiB, r.non2xx, r.errors].map(String),
  ),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
for (const row of table)
  process.stdout.write(
    `${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}\n`,
  );
process.stdout.write(
  `\nratios: c/b = ${ratios['c/b']} (goal ≥ 2), c/a = ${ratios['c/a']} (goal ≥ 0.6), ` +
    `c/c0 = ${ratios['c/c0']} (audit + rate limits cost ${Math.round((1 - ratios['c/c0']) * 100)}%; goal < 10%)\n`,
);

const record = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  durationSeconds: DURATION,
  rounds: ROUNDS,
  everyRound: rounds,
  connections: CONNECTIONS,
  results,
  ratios,
};
const outDir = path.resolve(here, '../../bench/results');
fs.mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `bench-${record.date.replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
process.stdout.write(`(median of ${ROUNDS} rounds of ${DURATION}s each)\n`);
process.stdout.write(`results written to ${path.relative(process.cwd(), file)}\n`);
const bad = rounds.flat().filter((r) => r.non2xx > 0 || r.errors > 0);
if (bad.length > 0) {
  process.stderr.write(
    `bench: ${bad.map((r) => r.id).join(', ')} answered errors during the run; figures are not valid\n`,
  );
  process.exitCode = 1;
}
