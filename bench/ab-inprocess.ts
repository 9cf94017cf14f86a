// `node dist/bench/ab-inprocess.js <rootA> <rootB> [rounds] [batch]`: c (every control) from two
// builds (each root holds a built dist/), both started in this one process on their own ports,
// loaded in turns by an HTTP client in the same process: `batch` calls (default 300) from 8
// concurrent loops on kept-alive connections, A then B (the order alternating by round), for
// `rounds` rounds (default 20). Turns of a fraction of a second share the machine's state far
// better than whole processes measured one after the other on a loaded machine. Prints, per
// build, the median wall and CPU time per call (CPU: this process, client included, so a
// saving shows diluted) and the median of the per-round ratios B/A.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type * as Gateway from '../src/gateway/index.js';
import type * as Auth from '../src/auth/index.js';
import type * as Tools from '../src/tools/index.js';
import type * as Limits from './load-limits.js';
import type * as Req from './request.js';

const [rootA, rootB, roundsArg, batchArg] = process.argv.slice(2);
if (!rootA || !rootB) {
  process.stderr.write('usage: ab-inprocess <rootA> <rootB> [rounds] [batch]\n');
  process.exit(2);
}
const ROUNDS = Number(roundsArg ?? 20);
const BATCH = Number(batchArg ?? 300);
const CONCURRENCY = 8;

interface Opened {
  readonly close: () => Promise<void>;
  readonly port: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

async function open(root: string): Promise<Opened> {
  const dist = path.resolve(root, 'dist');
  const gateway = (await import(path.join(dist, 'src/gateway/index.js'))) as typeof Gateway;
  const auth = (await import(path.join(dist, 'src/auth/index.js'))) as typeof Auth;
  const tools = (await import(path.join(dist, 'src/tools/index.js'))) as typeof Tools;
  const limits = (await import(path.join(dist, 'bench/load-limits.js'))) as typeof Limits;
  const req = (await import(path.join(dist, 'bench/request.js'))) as typeof Req;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-inprocess-'));
  const env: NodeJS.ProcessEnv = { PORTCULLIS_METRICS__PORT: '0', ...limits.LOAD_LIMITS_ENV };
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('PORTCULLIS_')) env[k] = v;
  const gw = await gateway.startGateway({
    dataDir: dir,
    port: 0,
    host: '127.0.0.1',
    env,
    logger: pino({ level: 'silent' }),
  });
  const { key } = await auth.createApiKey(
    gw.storage.apiKeys,
    { owner: 'bench', label: 'bench', scopes: [...tools.BUILT_IN_SCOPES], expiresAt: null },
    new Date(),
  );
  const headers = { ...req.TOOL_CALL_HEADERS, authorization: `Bearer ${key}` };
  for (const n of req.SEED_NOTES) {
    const body = JSON.parse(req.TOOL_CALL_BODY) as { params: { name: string; arguments: unknown } };
    body.params.name = 'memory_save';
    body.params.arguments = n;
    const res = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { ...headers, 'mcp-name': 'memory_save' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`seeding failed: ${await res.text()}`);
    await res.text();
  }
  return {
    close: async () => {
      await gw.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    port: Number(gw.mcpUrl.port),
    headers: { ...headers, 'content-length': String(Buffer.byteLength(req.TOOL_CALL_BODY)) },
    body: req.TOOL_CALL_BODY,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const call = (t: Opened) =>
  new Promise<void>((resolve, reject) => {
    const r = http.request(
      { host: '127.0.0.1', port: t.port, path: '/mcp', method: 'POST', headers: t.headers, agent },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
        );
      },
    );
    r.on('error', reject);
    r.end(t.body);
  });

async function batch(t: Opened, n: number): Promise<{ wall: number; cpu: number }> {
  let left = n;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await call(t);
    }),
  );
  const c = process.cpuUsage(c0);
  return { wall: ((performance.now() - t0) / n) * 1000, cpu: (c.user + c.system) / n };
}

const a = await open(rootA);
const b = await open(rootB);
await batch(a, 1000); // warm-up of both, not counted
await batch(b, 1000);
const ra: { wall: number; cpu: number }[] = [];
const rb: typeof ra = [];
for (let i = 0; i < ROUNDS; i++) {
  const order: [Opened, typeof ra][] =
    i % 2
      ? [
          [b, rb],
          [a, ra],
        ]
      : [
          [a, ra],
          [b, rb],
        ];
  for (const [t, into] of order) into.push(await batch(t, BATCH));
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const ratio = (f: (m: (typeof ra)[number]) => number) => median(ra.map((x, i) => f(rb[i]!) / f(x)));
const line = (name: string, root: string, r: typeof ra) =>
  `${name} ${root}: wall ${median(r.map((x) => x.wall)).toFixed(0)} µs/call, CPU ${median(r.map((x) => x.cpu)).toFixed(0)} µs/call (client included)\n`;
process.stdout.write(
  line('A', rootA, ra) +
    line('B', rootB, rb) +
    `B/A, median of ${ROUNDS} per-round ratios: wall ${ratio((x) => x.wall).toFixed(3)}, CPU ${ratio((x) => x.cpu).toFixed(3)}; ` +
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
);
await a.close();
await b.close();
agent.destroy();
