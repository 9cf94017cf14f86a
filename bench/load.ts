// The load generator, run as its own process so it never shares an event loop with a target.
// Prints autocannon's result as one JSON line.
import autocannon from 'autocannon';

const [url, headersJson, body, duration, connections] = process.argv.slice(2);
const result = await autocannon({
  url: url!,
  method: 'POST',
  headers: JSON.parse(headersJson!) as Record<string, string>,
  body: body!,
  duration: Number(duration),
  connections: Number(connections),
  pipelining: 1,
});
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  })}\n`,
);
