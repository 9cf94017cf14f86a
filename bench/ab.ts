// `node dist/bench/ab.js <rootA> <rootB>`: the same target from two builds (each root holds a
// built dist/, e.g. a copy of main's and this branch's), measured in turns A B A B … under the
// same load, so a drift of the machine hits both alike. Both are started once and warmed up
// (2 s each); then each round loads A and B in turn (the order alternates) for BENCH_DURATION
// (default 4) seconds each with BENCH_CONNECTIONS (32), the other one idle meanwhile. Reports, per build, the median
// answered req/s and the median CPU per answered call (user + system time of the target process,
// all its threads, divided by the calls: less sensitive to other processes than req/s), and the
// median of the per-round ratios B/A. BENCH_ROUNDS (default 10) rounds; BENCH_TARGET (default
// portcullis) picks the target script; its environment is this process's.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TOOL_CALL_BODY, TOOL_CALL_HEADERS, type LoadResult } from './request.js';

const [rootA, rootB] = process.argv.slice(2);
if (!rootA || !rootB) {
  process.stderr.write('usage: ab <rootA> <rootB>\n');
  process.exit(2);
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const DURATION = Number(process.env.BENCH_DURATION ?? 4);
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? '32';
const TARGET = process.env.BENCH_TARGET ?? 'portcullis';
const here = import.meta.dirname;

function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function runLoad(url: string, headers: Record<string, string>, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(here, 'load.js'),
        url,
        JSON.stringify(headers),
        TOOL_CALL_BODY,
        String(seconds),
        CONNECTIONS,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim()) as LoadResult) : reject(new Error(`load exited ${code}`)),
    );
  });
}

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly headers: Record<string, string>;
}

async function startTarget(root: string): Promise<Started> {
  const child = spawn(process.execPath, [path.join(root, 'dist/bench/targets', `${TARGET}.js`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  const [port, key] = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /ready (.*)\n/.exec(out);
      if (line) resolve(line[1]!.split(' '));
    });
    child.once('exit', (code) => reject(new Error(`target exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  const headers = { ...TOOL_CALL_HEADERS, ...(key ? { authorization: `Bearer ${key}` } : {}) };
  return { child, url, headers };
}

async function stopTarget(s: Started): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

/** One window of load on one target: its answered req/s and CPU per call. */
async function window(s: Started, seconds: number): Promise<{ reqPerSec: number; cpuUsPerCall: number }> {
  const cpu0 = cpuSeconds(s.child.pid!);
  const r = await runLoad(s.url, s.headers, seconds);
  const cpu = cpuSeconds(s.child.pid!) - cpu0;
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${s.url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { reqPerSec: r.requests, cpuUsPerCall: Math.round((cpu * 1e6) / Math.max(1, r.total)) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const a: { reqPerSec: number; cpuUsPerCall: number }[] = [];
const b: typeof a = [];
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
process.stdout.write(`A = ${rootA}\nB = ${rootB}\ntarget ${TARGET}, load average ${load()}\n`);
const sa = await startTarget(rootA);
const sb = await startTarget(rootB);
await window(sa, 2); // warm-up, not counted
await window(sb, 2);
for (let i = 0; i < ROUNDS; i++) {
  // Alternate who goes first, so neither always runs on the warmer (or noisier) half.
  const order: [Started, typeof a][] =
    i % 2 === 0
      ? [
          [sa, a],
          [sb, b],
        ]
      : [
          [sb, b],
          [sa, a],
        ];
  for (const [s, into] of order) into.push(await window(s, DURATION));
  process.stdout.write(
    `round ${i + 1}: A ${a[i]!.reqPerSec} req/s ${a[i]!.cpuUsPerCall} µs CPU/call; ` +
      `B ${b[i]!.reqPerSec} req/s ${b[i]!.cpuUsPerCall} µs CPU/call (load ${load()})\n`,
  );
}
await stopTarget(sa);
await stopTarget(sb);
const ratios = (f: (m: (typeof a)[number]) => number) => median(a.map((x, i) => f(b[i]!) / f(x)));
process.stdout.write(
  `median A: ${median(a.map((x) => x.reqPerSec))} req/s, ${median(a.map((x) => x.cpuUsPerCall))} µs CPU/call\n` +
    `median B: ${median(b.map((x) => x.reqPerSec))} req/s, ${median(b.map((x) => x.cpuUsPerCall))} µs CPU/call\n` +
    `B/A (median of per-round ratios): req/s ${ratios((m) => m.reqPerSec).toFixed(3)}, ` +
    `CPU per call ${ratios((m) => m.cpuUsPerCall).toFixed(3)} (load average ${load()})\n`,
);
