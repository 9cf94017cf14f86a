// `npm run bench`: measures the targets side by side in one run, on loopback, each served by its
// own process and loaded by another. Targets take turns over several rounds (a fresh process each
// time) and the median round is reported, so a burst of noise on the machine cannot decide a
// ratio. Then: latency at a fixed rate (b and c), 1,000 clients against c, and the ablation table
// (a CPU profile of c under load, charged per control). Prints every table and the ratios, and
// writes everything under bench/results/. Shorten with BENCH_DURATION, BENCH_ROUNDS,
// BENCH_LATENCY_SECONDS, BENCH_CLIENTS (0 skips), BENCH_PROFILE_SECONDS (0 skips).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY_NODE_FLAGS } from '../src/gateway/heap.js';
import { ablationFromProfile, printAblation, type AblationRow } from './ablation.js';
import { LOAD_LIMITS_NOTE } from './load-limits.js';
import { TOOL_CALL_BODY, TOOL_CALL_HEADERS, type LoadResult } from './request.js';

const here = import.meta.dirname;
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const PROFILE_SECONDS = Number(process.env.BENCH_PROFILE_SECONDS ?? 8);
const PROXY_DURATION = Number(process.env.BENCH_PROXY_DURATION ?? 8);

interface Target {
  readonly id: string;
  readonly label: string;
  readonly script: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Node flags, for Portcullis: those its launchers pass (gateway/heap.ts). */
  readonly node?: readonly string[];
}

const TARGETS: Target[] = [
  { id: 'a', label: 'plain Hono JSON endpoint, fixed answer', script: 'targets/hono-plain.js' },
  { id: "a'", label: 'Hono, same request parsed, same tool and store', script: 'targets/hono-tool.js' },
  { id: 'b', label: 'bare SDK v2 server, same tool, no controls', script: 'targets/sdk-bare.js' },
  { id: 'c', label: 'Portcullis, every control', script: 'targets/portcullis.js', node: GATEWAY_NODE_FLAGS },
  {
    id: 'c0',
    label: 'Portcullis, audit and rate limits off',
    script: 'targets/portcullis.js',
    node: GATEWAY_NODE_FLAGS,
    env: { PORTCULLIS_AUDIT__ENABLED: 'false', PORTCULLIS_RATE_LIMITS__ENABLED: 'false' },
  },
];
const byTargetId = (id: string) => TARGETS.find((t) => t.id === id)!;

interface Measured {
  id: string;
  label: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMiB: number;
  /** CPU seconds the target used per second of load: how many cores it kept busy. */
  coresUsed: number;
  non2xx: number;
  errors: number;
  total: number;
}

interface Serving {
  readonly child: ChildProcess;
  readonly port: string;
  readonly key: string | undefined;
}

function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

/** User + system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function start(
  target: Target,
  extraEnv: NodeJS.ProcessEnv = {},
  args: string[] = [],
): Promise<Serving> {
  const child = spawn(process.execPath, [...(target.node ?? []), path.join(here, target.script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...target.env, ...extraEnv },
  });
  const ready = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /ready (.*)\n/.exec(out);
      if (line) resolve(line[1]!.split(' '));
    });
    child.once('exit', (code) => reject(new Error(`${target.id} exited with ${code}`)));
  });
  return { child, port: ready[0]!, key: ready[1] };
}

async function stop(s: Serving): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

function requestOf(s: Serving) {
  const headers: Record<string, string> = {
    ...TOOL_CALL_HEADERS,
    ...(s.key ? { authorization: `Bearer ${s.key}` } : {}),
  };
  return { url: `http://127.0.0.1:${s.port}/mcp`, headers };
}

async function probe(id: string, url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers, body: TOOL_CALL_BODY });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('benchmark')) {
    throw new Error(`${id} did not answer the tool call correctly: ${res.status} ${text.slice(0, 300)}`);
  }
}

async function measure(target: Target): Promise<Measured> {
  const s = await start(target);
  try {
    const { url, headers } = requestOf(s);
    await probe(target.id, url, headers);
    // A short warm-up lets the JIT settle before the measured run.
    await runNode('load.js', [url, JSON.stringify(headers), TOOL_CALL_BODY, '2', String(CONNECTIONS)]);
    const cpu0 = cpuSeconds(s.child.pid!);
    const t0 = performance.now();
    const result = (await runNode('load.js', [
      url,
      JSON.stringify(headers),
      TOOL_CALL_BODY,
      String(DURATION),
      String(CONNECTIONS),
    ])) as LoadResult;
    const cores = (cpuSeconds(s.child.pid!) - cpu0) / ((performance.now() - t0) / 1000);
    return {
      id: target.id,
      label: target.label,
      // Answered calls only, as for the proxies below.
      reqPerSec: Math.round((result.requests * (result.total - result.non2xx)) / Math.max(1, result.total)),
      p50Ms: result.p50,
      p99Ms: result.p99,
      peakRssMiB: peakRssMiB(s.child.pid!),
      coresUsed: Math.round(cores * 100) / 100,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      total: result.total,
    };
  } finally {
    await stop(s);
  }
}

/** Runs a bench script in its own process and returns the JSON line it prints. */
function runNode(script: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, script), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${script} exited with ${code}`));
      else resolve(JSON.parse(out.trim()));
    });
  });
}

// `npm run bench -- replicas`: 1, 2 and 3 replicas on PostgreSQL + Redis instead (replicas.ts).
if (process.argv[2] === 'replicas') {
  const { benchReplicas } = await import('./replicas.js');
  await benchReplicas({
    duration: DURATION,
    rounds: ROUNDS,
    runLoad: async (url, headers, seconds) =>
      (await runNode('load.js', [
        url,
        JSON.stringify(headers),
        TOOL_CALL_BODY,
        String(seconds),
        String(CONNECTIONS),
      ])) as never,
  });
  process.exit();
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows)
    process.stdout.write(
      `${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}\n`,
    );
}
const say = (text: string) => process.stderr.write(`bench: ${text}\n`);
const load0 = os.loadavg();

// 1. Throughput, alternating rounds.
const rounds: Measured[][] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const measured: Measured[] = [];
  for (const t of TARGETS) {
    say(`round ${round}/${ROUNDS}, ${t.id} (${t.label}) for ${DURATION}s with ${CONNECTIONS} connections…`);
    measured.push(await measure(t));
  }
  rounds.push(measured);
}
/** Per target, the round with the median throughput (its latencies and RSS come with it). */
const results: Measured[] =
  ROUNDS === 0
    ? []
    : TARGETS.map((t) => {
        const runs = rounds
          .map((r) => r.find((m) => m.id === t.id)!)
          .sort((x, y) => x.reqPerSec - y.reqPerSec);
        return runs[Math.floor(runs.length / 2)]!;
      });
const by = (id: string) => results.find((r) => r.id === id)!;
const ratio = (x: number, y: number) => Math.round((x / y) * 100) / 100;
/** The ratio in each round (targets of one round ran back to back), then their median. */
const roundRatio = (x: string, y: string) => {
  const each = rounds.map((r) =>
    ratio(r.find((m) => m.id === x)!.reqPerSec, r.find((m) => m.id === y)!.reqPerSec),
  );
  return [...each].sort((p, q) => p - q)[Math.floor(each.length / 2)]!;
};
const ratios =
  ROUNDS === 0
    ? {}
    : {
        'c/b': roundRatio('c', 'b'),
        "c/a'": roundRatio('c', "a'"),
        'c/a': roundRatio('c', 'a'),
        'c/c0': roundRatio('c', 'c0'),
      };
if (ROUNDS > 0) {
  printTable([
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'peak RSS MiB', 'cores used', 'non-2xx', 'errors'],
    ...results.map((r) =>
      [
        `${r.id}: ${r.label}`,
        r.reqPerSec,
        r.p50Ms,
        r.p99Ms,
        r.peakRssMiB,
        r.coresUsed,
        r.non2xx,
        r.errors,
      ].map(String),
    ),
  ]);
  process.stdout.write(
    `\nratios (median of the per-round ratios): c/b = ${ratios['c/b']} (goal ≥ 2), c/a' = ${ratios["c/a'"]} (goal ≥ 0.6), ` +
      `c/a = ${ratios['c/a']}, c/c0 = ${ratios['c/c0']} (goal ≥ 0.9: audit + rate limits cost ` +
      `${Math.round((1 - ratios['c/c0']!) * 100)}%)\n` +
      `c: ${LOAD_LIMITS_NOTE}\n`,
  );
}

// 2. Latency at a fixed, moderate rate: what Portcullis adds to a call over the bare SDK.
const latency: Record<string, unknown> = {};
if (LATENCY_SECONDS > 0) {
  for (const id of ['b', 'c']) {
    say(`latency of ${id} at ${RATE} req/s for ${LATENCY_SECONDS}s…`);
    const s = await start(byTargetId(id));
    try {
      const { url, headers } = requestOf(s);
      await probe(id, url, headers);
      await runNode('latency.js', [url, JSON.stringify(headers), TOOL_CALL_BODY, String(RATE), '2', '16']);
      latency[id] = await runNode('latency.js', [
        url,
        JSON.stringify(headers),
        TOOL_CALL_BODY,
        String(RATE),
        String(LATENCY_SECONDS),
        '16',
      ]);
    } finally {
      await stop(s);
    }
  }
  const b = latency.b as { p50Ms: number; p99Ms: number };
  const c = latency.c as { p50Ms: number; p99Ms: number };
  latency.addedP50Ms = Math.round((c.p50Ms - b.p50Ms) * 1000) / 1000;
  latency.addedP99Ms = Math.round((c.p99Ms - b.p99Ms) * 1000) / 1000;
  process.stdout.write(
    `\nlatency at ${RATE} req/s (open loop, 16 connections): b p50 ${b.p50Ms} ms p99 ${b.p99Ms} ms; ` +
      `c p50 ${c.p50Ms} ms p99 ${c.p99Ms} ms; added p50 ${String(latency.addedP50Ms)} ms, ` +
      `p99 ${String(latency.addedP99Ms)} ms (goal ≤ 1 ms)\n`,
  );
  // An open-loop rate above what a target can serve only measures its queue growing.
  const slow = ['b', 'c'].filter((id) => results.length > 0 && by(id).reqPerSec < RATE * 1.5);
  if (slow.length > 0) {
    latency.saturated = slow;
    process.stdout.write(
      `  (not meaningful on this machine now: ${slow.join(', ')} served under ${RATE * 1.5} req/s above, ` +
        `so at ${RATE} req/s the queue grows; compare on a quieter machine or lower BENCH_RATE)\n`,
    );
  }
}

// 3. 1,000 clients against c: stateless calls, then open 2025 sessions.
let clients: Record<string, unknown> | undefined;
if (CLIENTS > 0) {
  say(`${CLIENTS} clients against c (stateless calls, then ${CLIENTS} open 2025 sessions)…`);
  // Operator settings for this many clients from one address: the connection and session caps
  // are raised (their defaults protect a small deployment); every control stays on.
  const s = await start(byTargetId('c'), {
    PORTCULLIS_SERVER__CONNECTIONS__MAX_TOTAL: String(CLIENTS * 2 + 64),
    PORTCULLIS_SERVER__CONNECTIONS__MAX_PER_ADDRESS: '0',
    PORTCULLIS_SESSIONS__MAX_PER_PRINCIPAL: String(Math.min(1000, CLIENTS)),
    PORTCULLIS_SESSIONS__MAX_TOTAL: String(CLIENTS * 2),
  });
  try {
    const { url } = requestOf(s);
    const out = (await runNode('clients.js', [url, s.key!, String(CLIENTS), '3'])) as Record<string, unknown>;
    clients = { ...out, peakRssMiB: peakRssMiB(s.child.pid!) };
  } finally {
    await stop(s);
  }
  const st = clients.stateless as { calls: number; errors: number; non2xx: number; ms: number };
  const se = clients.sessions as { opened: number; called: number; errors: number; ms: number };
  process.stdout.write(
    `\n${CLIENTS} clients against c: ${st.calls} stateless calls in ${st.ms} ms (${st.errors} errors, ${st.non2xx} bad answers); ` +
      `${se.opened} sessions open, ${se.called} calls on them in ${se.ms} ms (${se.errors} errors); ` +
      `peak RSS ${String(clients.peakRssMiB)} MiB (goal ≤ 150 MB, no errors)\n`,
  );
}

// 4. As a proxy: the same stdio upstream behind each proxy, loaded over Streamable HTTP with one
// 2025-06-18 session (each proxy's stateful mode; Portcullis serves it statelessly).
interface ProxyMeasured {
  id: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}
const proxies: ProxyMeasured[] = [];
async function openSession(url: string, headers: Record<string, string>): Promise<Record<string, string>> {
  const init = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'bench', version: '1' },
      },
    }),
  });
  await init.text();
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}`);
  const session = init.headers.get('mcp-session-id');
  const withSession = { ...headers, ...(session ? { 'mcp-session-id': session } : {}) };
  const done = await fetch(url, {
    method: 'POST',
    headers: withSession,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await done.text();
  return withSession;
}
if (PROXY_DURATION > 0) {
  for (const id of ['portcullis', 'supergateway', 'mcp-proxy']) {
    say(`proxy ${id} fronting the stdio memory server for ${PROXY_DURATION}s…`);
    const s = await start(
      {
        id,
        label: id,
        script: 'targets/proxy.js',
        ...(id === 'portcullis' ? { node: GATEWAY_NODE_FLAGS } : {}),
      },
      {},
      [id],
    );
    try {
      const url = `http://127.0.0.1:${s.port}/mcp`;
      const headers = await openSession(url, {
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
        'mcp-protocol-version': '2025-06-18',
        ...(s.key ? { authorization: `Bearer ${s.key}` } : {}),
      });
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: id === 'portcullis' ? 'memory__search_nodes' : 'search_nodes',
          arguments: { query: 'benchmark' },
        },
      });
      const check = await fetch(url, { method: 'POST', headers, body });
      const text = await check.text();
      if (check.status !== 200 || !text.includes('benchmark'))
        throw new Error(`${id}: ${check.status} ${text.slice(0, 300)}`);
      await runNode('load.js', [url, JSON.stringify(headers), body, '2', String(CONNECTIONS)]);
      const r = (await runNode('load.js', [
        url,
        JSON.stringify(headers),
        body,
        String(PROXY_DURATION),
        String(CONNECTIONS),
      ])) as LoadResult;
      proxies.push({
        id,
        // Answered calls only: a refusal (429, 503…) is fast and would flatter whoever refuses.
        reqPerSec: Math.round((r.requests * (r.total - r.non2xx)) / Math.max(1, r.total)),
        p50Ms: r.p50,
        p99Ms: r.p99,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
      });
    } catch (err) {
      say(`proxy ${id} could not be measured: ${String(err)}`);
      proxies.push({ id, reqPerSec: 0, p50Ms: 0, p99Ms: 0, non2xx: 0, errors: -1 });
    } finally {
      await stop(s);
    }
  }
  process.stdout.write(
    `\nas a proxy: one stdio MCP server (server-memory) behind each, Streamable HTTP, one session, ${CONNECTIONS} connections\n` +
      `portcullis: every control, the upstream sandboxed; ${LOAD_LIMITS_NOTE}\n`,
  );
  printTable([
    ['proxy', '2xx req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
    ...proxies.map((p) => [p.id, p.reqPerSec, p.p50Ms, p.p99Ms, p.non2xx, p.errors].map(String)),
  ]);
  const pc = proxies.find((p) => p.id === 'portcullis')!.reqPerSec;
  process.stdout.write(
    proxies
      .filter((p) => p.id !== 'portcullis' && p.reqPerSec > 0)
      .map((p) => `portcullis/${p.id} = ${ratio(pc, p.reqPerSec)}`)
      .join(', ') +
      ' (goal ≥ 1). Over a Streamable HTTP upstream neither supergateway 4 nor mcp-proxy 6 can serve ' +
      '(both front stdio servers only), so that comparison is not made.\n',
  );
}

// 5. The ablation table: c profiled under the same load, CPU charged per control.
let ablation: AblationRow[] | undefined;
let profiledCalls: number | undefined;
if (PROFILE_SECONDS > 0) {
  say(`profiling c under load for ${PROFILE_SECONDS}s for the ablation table…`);
  const profileFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ablation-')), 'c.cpuprofile');
  const s = await start(byTargetId('c'), { BENCH_PROFILE_FILE: profileFile });
  try {
    const { url, headers } = requestOf(s);
    await probe('c', url, headers);
    await runNode('load.js', [url, JSON.stringify(headers), TOOL_CALL_BODY, '2', String(CONNECTIONS)]);
    s.child.kill('SIGUSR2');
    const r = (await runNode('load.js', [
      url,
      JSON.stringify(headers),
      TOOL_CALL_BODY,
      String(PROFILE_SECONDS),
      String(CONNECTIONS),
    ])) as { total: number };
    profiledCalls = r.total;
  } finally {
    await stop(s);
  }
  ablation = ablationFromProfile(profileFile, profiledCalls ?? 0);
  fs.rmSync(path.dirname(profileFile), { recursive: true, force: true });
  process.stdout.write(
    `\nablation: CPU per control in c (${profiledCalls ?? 0} calls profiled; idle outside the shares)\n`,
  );
  printAblation(ablation);
}

const record = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  loadAverage: { start: load0, end: os.loadavg() },
  durationSeconds: DURATION,
  rounds: ROUNDS,
  connections: CONNECTIONS,
  everyRound: rounds,
  results,
  ratios,
  latency: { rate: RATE, seconds: LATENCY_SECONDS, ...latency },
  clients,
  proxies,
  ablation,
};
const outDir = path.resolve(here, '../../bench/results');
fs.mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `bench-${record.date.replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
process.stdout.write(
  `\n(median of ${ROUNDS} rounds of ${DURATION}s each; ${os.cpus().length} cores; load average ` +
    `${load0.map((l) => l.toFixed(1)).join(' ')} at start, ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at end)\n`,
);
process.stdout.write(`results written to ${path.relative(process.cwd(), file)}\n`);
const bad = [...rounds.flat(), ...proxies].filter((r) => r.non2xx > 0 || r.errors !== 0);
if (bad.length > 0) {
  say(
    `${bad.map((r) => r.id).join(', ')} answered errors (or refusals) during the run, or could not be measured; figures are not valid`,
  );
  process.exitCode = 1;
}
