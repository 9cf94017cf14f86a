// `node dist/bench/latency-one.js <target-id> [rate] [seconds] [connections]`: the latency bench of
// `npm run bench` (latency.js, open loop, 16 connections, 2 s warm-up) against one target only (b,
// c, c0; ca audit without rate limits, cr the reverse), so targets and builds can be alternated by
// hand for A/B runs. With rate `load`, the throughput bench instead (load.js, closed loop, 32
// connections unless given). Prints the JSON line with the target id and the load average.
// BENCH_STALL_TRACE is passed to the target (stall-trace.ts).
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { TOOL_CALL_BODY, TOOL_CALL_HEADERS } from './request.js';

const here = import.meta.dirname;
const [id = 'c', rate = '200', seconds = '10', connections] = process.argv.slice(2);
const load = rate === 'load';
const scripts: Record<string, { script: string; env?: NodeJS.ProcessEnv }> = {
  b: { script: 'targets/sdk-bare.js' },
  c: { script: 'targets/portcullis.js' },
  c0: {
    script: 'targets/portcullis.js',
    env: { PORTCULLIS_AUDIT__ENABLED: 'false', PORTCULLIS_RATE_LIMITS__ENABLED: 'false' },
  },
  // Audit on, rate limits off; and the reverse: which of the two costs the tail.
  ca: { script: 'targets/portcullis.js', env: { PORTCULLIS_RATE_LIMITS__ENABLED: 'false' } },
  cr: { script: 'targets/portcullis.js', env: { PORTCULLIS_AUDIT__ENABLED: 'false' } },
};
const target = scripts[id];
if (!target) throw new Error(`unknown target ${id}`);
const child = spawn(process.execPath, [path.join(here, target.script)], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, ...target.env },
});
const ready = await new Promise<string[]>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const line = /ready (.*)\n/.exec(out);
    if (line) resolve(line[1]!.split(' '));
  });
  child.once('exit', (code) => reject(new Error(`${id} exited with ${code}`)));
});
const [port, key] = ready;
const headers = { ...TOOL_CALL_HEADERS, ...(key ? { authorization: `Bearer ${key}` } : {}) };
const url = `http://127.0.0.1:${port}/mcp`;
const run = (secs: string) =>
  new Promise<string>((resolve, reject) => {
    const c = spawn(
      process.execPath,
      load
        ? [
            path.join(here, 'load.js'),
            url,
            JSON.stringify(headers),
            TOOL_CALL_BODY,
            secs,
            connections ?? '32',
          ]
        : [
            path.join(here, 'latency.js'),
            url,
            JSON.stringify(headers),
            TOOL_CALL_BODY,
            rate,
            secs,
            connections ?? '16',
          ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`latency.js ${code}`))));
  });
await run('2');
const load1 = os.loadavg()[0]!.toFixed(2);
const result = JSON.parse(await run(seconds)) as Record<string, unknown>;
const exited = new Promise((r) => child.once('exit', r));
child.kill('SIGTERM');
await exited;
process.stdout.write(`${JSON.stringify({ id, load1, ...result })}\n`);
