// `node dist/bench/profile.js <name>`: runs the Portcullis target (every control) under
// `node --cpu-prof`, loads it with autocannon for BENCH_DURATION seconds (default 15), stops it
// and writes bench/results/<name>.txt (top entries) and <name>.svg (icicle) from the profile.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY_NODE_FLAGS } from '../src/gateway/heap.js';
import { TOOL_CALL_BODY, TOOL_CALL_HEADERS } from './request.js';

const here = import.meta.dirname;
const name = process.argv[2] ?? 'profile';
const seconds = Number(process.env.BENCH_DURATION ?? 15);
const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prof-'));
const server = spawn(
  process.execPath,
  [
    ...GATEWAY_NODE_FLAGS,
    '--cpu-prof',
    `--cpu-prof-dir=${profDir}`,
    path.join(here, 'targets/portcullis.js'),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
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
const headers = { ...TOOL_CALL_HEADERS, authorization: `Bearer ${key}` };
const load = spawn(
  process.execPath,
  [
    path.join(here, 'load.js'),
    `http://127.0.0.1:${port}/mcp`,
    JSON.stringify(headers),
    TOOL_CALL_BODY,
    String(seconds),
    process.env.BENCH_CONNECTIONS ?? '32',
  ],
  { stdio: ['ignore', 'inherit', 'inherit'] },
);
await new Promise((r) => load.once('exit', r));
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
const prof = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!prof) throw new Error('no profile was written');
const outDir = path.resolve(here, '../../bench/results');
const summary = spawn(
  process.execPath,
  [
    path.join(here, 'profile-summary.js'),
    path.join(profDir, prof),
    path.join(outDir, `${name}.txt`),
    path.join(outDir, `${name}.svg`),
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
await new Promise((r) => summary.once('exit', r));
fs.rmSync(profDir, { recursive: true, force: true });
process.stdout.write(
  `profile written to bench/results/${name}.txt and .svg (load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})\n`,
);
