// `node dist/bench/profile.js <name> [target]`: starts a target (default `portcullis`, c with
// every control; `hono-tool` is a′), warms it up
// with 2 s of load, then starts the inspector's CPU profiler (SIGUSR2, see targets/portcullis.ts)
// and profiles BENCH_DURATION seconds (default 15) of load only, so start-up, module loading,
// seeding and the first JIT tiers are not in it. Writes bench/results/<name>.txt (top entries) and
// <name>.svg (icicle) from the profile.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY_NODE_FLAGS } from '../src/gateway/heap.js';
import { TOOL_CALL_BODY, TOOL_CALL_HEADERS } from './request.js';

const here = import.meta.dirname;
const name = process.argv[2] ?? 'profile';
const target = process.argv[3] ?? 'portcullis';
if (!['portcullis', 'hono-tool'].includes(target)) throw new Error(`no profile hook in target ${target}`);
const seconds = Number(process.env.BENCH_DURATION ?? 15);
const connections = process.env.BENCH_CONNECTIONS ?? '32';
const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prof-'));
const profileFile = path.join(profDir, 'c.cpuprofile');
const server = spawn(
  process.execPath,
  [...(target === 'portcullis' ? GATEWAY_NODE_FLAGS : []), path.join(here, `targets/${target}.js`)],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_PROFILE_FILE: profileFile },
  },
);
const [port, key] = await new Promise<string[]>((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const line = /ready (.*)\n/.exec(out);
    if (line) resolve(line[1]!.split(' '));
  });
  server.once('exit', (code) => reject(new Error(`target exited with ${code}`)));
});
const headers = { ...TOOL_CALL_HEADERS, ...(key ? { authorization: `Bearer ${key}` } : {}) };
const runLoad = async (secs: number): Promise<{ total: number }> => {
  const load = spawn(
    process.execPath,
    [
      path.join(here, 'load.js'),
      `http://127.0.0.1:${port}/mcp`,
      JSON.stringify(headers),
      TOOL_CALL_BODY,
      String(secs),
      connections,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  load.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => load.once('exit', r));
  return JSON.parse(out.trim()) as { total: number };
};
await runLoad(2); // warm-up, not profiled
server.kill('SIGUSR2');
await new Promise((r) => setTimeout(r, 100)); // the profiler is started asynchronously
const { total } = await runLoad(seconds);
const exited = new Promise((r) => server.once('exit', r));
server.kill('SIGTERM');
await exited;
if (!fs.existsSync(profileFile)) throw new Error('no profile was written');
const outDir = path.resolve(here, '../../bench/results');
const summary = spawn(
  process.execPath,
  [
    path.join(here, 'profile-summary.js'),
    profileFile,
    path.join(outDir, `${name}.txt`),
    path.join(outDir, `${name}.svg`),
    String(total),
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
await new Promise((r) => summary.once('exit', r));
// BENCH_KEEP_PROFILE=<file>: keep the raw .cpuprofile there as well.
if (process.env.BENCH_KEEP_PROFILE) fs.copyFileSync(profileFile, process.env.BENCH_KEEP_PROFILE);
fs.rmSync(profDir, { recursive: true, force: true });
process.stdout.write(
  `profile of ${target}, ${total} calls, written to bench/results/${name}.txt and .svg (load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})\n`,
);
