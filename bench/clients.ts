// 1,000 clients against one target: first `waves` rounds of 1,000 concurrent stateless
// 2026-07-28 calls, each client on its own connection; then 1,000 2025 sessions opened
// (initialize with elicitation, so each is a stateful session) and held, each making one call
// with its session id while all are open. Prints one JSON line with the errors of each part.
// Usage: clients.js <url> <api-key> <clients> <waves>
import { Agent, request } from 'undici';
import { TOOL_CALL_BODY, TOOL_CALL_HEADERS } from './request.js';

const [url, key, clientsArg, wavesArg] = process.argv.slice(2);
const clients = Number(clientsArg);
const waves = Number(wavesArg);
// One agent per client: each has its own connection, as separate clients would.
const agents = Array.from({ length: clients }, () => new Agent({ connections: 1 }));
const auth = { authorization: `Bearer ${key}` };

async function post(i: number, headers: Record<string, string>, body: string) {
  const res = await request(url!, {
    method: 'POST',
    headers: { ...auth, ...headers },
    body,
    dispatcher: agents[i]!,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

/** The first few distinct failures, so a run with errors says what they were. */
const reasons = new Set<string>();
const fail = (why: unknown) => {
  if (reasons.size < 5) reasons.add(String(why).slice(0, 200));
};
const stateless = { calls: 0, errors: 0, non2xx: 0, ms: 0 };
const t0 = performance.now();
for (let w = 0; w < waves; w++) {
  const results = await Promise.allSettled(agents.map((_, i) => post(i, TOOL_CALL_HEADERS, TOOL_CALL_BODY)));
  for (const r of results) {
    stateless.calls++;
    if (r.status === 'rejected') {
      fail(r.reason);
      stateless.errors++;
    } else if (r.value.status !== 200 || !r.value.text.includes('benchmark')) {
      fail(`stateless: ${r.value.status} ${r.value.text.slice(0, 120)}`);
      stateless.non2xx++;
    }
  }
}
stateless.ms = Math.round(performance.now() - t0);

const legacy = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: { elicitation: {} },
    clientInfo: { name: 'bench', version: '1' },
  },
});
const sessions = { opened: 0, called: 0, errors: 0, ms: 0 };
const t1 = performance.now();
const ids = await Promise.all(
  agents.map(async (_, i) => {
    try {
      const r = await post(i, legacy, initialize);
      const id = r.headers['mcp-session-id'];
      if (r.status !== 200 || typeof id !== 'string')
        throw new Error(`initialize: ${r.status} ${r.text.slice(0, 120)}`);
      const h = { ...legacy, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' };
      const n = await post(i, h, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      if (n.status !== 202) throw new Error(`initialized: ${n.status} ${n.text.slice(0, 120)}`);
      sessions.opened++;
      return id;
    } catch (err) {
      fail(err);
      sessions.errors++;
      return undefined;
    }
  }),
);
await Promise.all(
  ids.map(async (id, i) => {
    if (!id) return;
    const call = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'memory_search', arguments: { query: 'benchmark' } },
    });
    try {
      const r = await post(
        i,
        { ...legacy, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' },
        call,
      );
      if (r.status === 200 && r.text.includes('benchmark')) sessions.called++;
      else {
        fail(`call: ${r.status} ${r.text.slice(0, 120)}`);
        sessions.errors++;
      }
    } catch (err) {
      fail(err);
      sessions.errors++;
    }
  }),
);
sessions.ms = Math.round(performance.now() - t1);
await Promise.all(agents.map((a) => a.close()));
process.stdout.write(`${JSON.stringify({ clients, stateless, sessions, failures: [...reasons] })}\n`);
