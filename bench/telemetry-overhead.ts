// `node dist/bench/telemetry-overhead.js`: the cost of OTLP telemetry on one tool call. Starts the
// real gateway twice in this process, telemetry off and then on (exporting to a local collector
// every 200 ms), and times the same sequential memory_search calls through each (after a warm-up),
// reporting the median and p90 per call. Sequential on purpose: it measures the work added to a
// call, not the machine's throughput (which `npm run bench` does).
import { startOtlpCollector } from '../test/helpers/otlp-collector.js';
import { trustTestCertificate } from '../test/helpers/oauth-tls.js';
import { postMcp, startTestGateway } from '../test/helpers/gateway.js';

const CALLS = Number(process.env.CALLS ?? 400);
const body = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'memory_search', arguments: { query: 'bench' } },
};

async function timeCalls(config: string | undefined): Promise<number[]> {
  // Rate limits off: 500 calls in a few seconds from one key would be refused.
  const env = { PORTCULLIS_RATE_LIMITS__ENABLED: 'false' };
  const t = await startTestGateway(config !== undefined ? { config, env } : { env });
  try {
    const { key } = await t.key();
    const once = async () => {
      const res = await postMcp(t.url, body, { key });
      await res.text();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    };
    for (let i = 0; i < 100; i++) await once();
    const ms: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const start = performance.now();
      await once();
      ms.push(performance.now() - start);
    }
    return ms.sort((a, b) => a - b);
  } finally {
    await t.close();
  }
}

const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
trustTestCertificate();
const collector = await startOtlpCollector();
const on = [
  'telemetry:',
  '  otlp:',
  '    enabled: true',
  `    endpoint: ${collector.origin}`,
  '    allowPrivateAddress: true',
  '    exportIntervalMs: 200',
  '',
].join('\n');
const rounds: { off: number[]; on: number[] }[] = [];
for (let r = 0; r < 3; r++) rounds.push({ off: await timeCalls(undefined), on: await timeCalls(on) });
await collector.close();
for (const [i, r] of rounds.entries()) {
  const line = (name: string, xs: number[]) =>
    `${name} p50 ${q(xs, 0.5).toFixed(3)} ms, p90 ${q(xs, 0.9).toFixed(3)} ms`;
  console.log(`round ${i + 1}: ${line('off', r.off)} | ${line('on', r.on)}`);
}
const med = (k: 'off' | 'on') => rounds.map((r) => q(r[k], 0.5)).sort((a, b) => a - b)[1]!;
console.log(
  `median of rounds: off ${med('off').toFixed(3)} ms, on ${med('on').toFixed(3)} ms, ` +
    `added ${(med('on') - med('off')).toFixed(3)} ms per call; spans received: ${collector.spans().length}`,
);

// The telemetry work itself, without the noise of a whole call: a trace with the 15 call stages
// and its end, as the pipeline makes one, against the real exporter (to the same local collector
// restarted), timed over many calls.
{
  const { startTelemetry } = await import('../src/telemetry/index.js');
  const { pino } = await import('pino');
  const sink = await startOtlpCollector();
  const telemetry = await startTelemetry(
    {
      enabled: true,
      endpoint: sink.origin,
      headers: {},
      serviceName: 'bench',
      allowPrivateAddress: true,
      exportIntervalMs: 200,
    },
    { env: {}, dataDir: '.', version: 'bench', logger: pino({ level: 'silent' }) },
  );
  const N = 20_000;
  const stages = Array.from({ length: 15 }, (_, i) => `stage ${i}`);
  const one = () => {
    const trace = telemetry!.tracer.begin('tools/call');
    for (const s of stages) trace.stage(s)();
    trace.end({
      method: 'tools/call',
      correlationId: 'c',
      target: 'memory_search',
      decision: 'allow',
      outcome: 'ok',
      reasons: ['scope-granted'],
      latencyMs: 1,
    });
  };
  for (let i = 0; i < 2000; i++) one();
  const start = performance.now();
  for (let i = 0; i < N; i++) one();
  const perCall = ((performance.now() - start) * 1000) / N;
  await telemetry!.close();
  await sink.close();
  console.log(`telemetry work per call (begin, 15 stages, end): ${perCall.toFixed(1)} µs (mean of ${N})`);
}
