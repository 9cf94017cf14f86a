// Open-loop latency at a fixed rate: one request every 1/rate seconds whatever the answers do,
// over a pool of keep-alive connections, timed with the high-resolution clock (autocannon rounds
// latency to whole milliseconds, too coarse for a 1 ms budget). Prints one JSON line.
// Usage: latency.js <url> <headers-json> <body> <rate> <seconds> <connections>
import { Pool } from 'undici';

const [url, headersJson, body, rate, seconds, connections] = process.argv.slice(2);
const target = new URL(url!);
const pool = new Pool(target.origin, { connections: Number(connections), pipelining: 1 });
const headers = JSON.parse(headersJson!) as Record<string, string>;
const total = Math.round(Number(rate) * Number(seconds));
const interval = 1000 / Number(rate);
const micros: number[] = [];
let errors = 0;
let non2xx = 0;

async function one(): Promise<void> {
  const t0 = process.hrtime.bigint();
  try {
    const res = await pool.request({ path: target.pathname, method: 'POST', headers, body: body! });
    await res.body.text();
    if (res.statusCode !== 200) non2xx++;
    micros.push(Number(process.hrtime.bigint() - t0) / 1000);
  } catch {
    errors++;
  }
}

const start = performance.now();
const inflight: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const due = start + i * interval;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  inflight.push(one());
}
await Promise.all(inflight);
await pool.close();
micros.sort((a, b) => a - b);
const at = (q: number) =>
  Math.round(micros[Math.min(micros.length - 1, Math.floor(q * micros.length))] ?? 0) / 1000;
process.stdout.write(
  `${JSON.stringify({
    sent: total,
    achievedRate: Math.round(total / ((performance.now() - start) / 1000)),
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: at(1),
    non2xx,
    errors,
  })}\n`,
);
