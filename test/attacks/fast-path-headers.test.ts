import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The 2026-07-28 tools/call answer is built with the HTTP layer's common headers in one plain
// object, and the middleware that sets them on every other answer leaves it alone
// (wire/common-headers.ts). A fast path that forgot one would serve a tool's output without
// nosniff, frame or CSP protection, or reuse another request's id. Every answer on /mcp must
// carry exactly what /healthz carries, and its own request id.

const SECURITY = [
  'x-content-type-options',
  'referrer-policy',
  'x-frame-options',
  'cross-origin-resource-policy',
  'content-security-policy',
  'cache-control',
];

const modernCall = (key: string, id: number, name = 'memory_search') =>
  fetch(url, {
    method: 'POST',
    headers: {
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-method': 'tools/call',
      'mcp-name': name,
      'mcp-protocol-version': '2026-07-28',
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: {
        name,
        arguments: { query: 'headers' },
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'attack', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });
let url: string;

describe('attack: the fast-path tools/call answer without the security headers', () => {
  let t: TestGateway;
  let key: string;
  let expected: Record<string, string | null>;

  before(async () => {
    t = await startTestGateway();
    url = t.url;
    key = (await t.key()).key;
    const health = await fetch(new URL('/healthz', t.url));
    await health.text();
    expected = Object.fromEntries(SECURITY.map((h) => [h, health.headers.get(h)]));
    for (const h of SECURITY) assert.ok(expected[h], `/healthz carries ${h}`);
  });
  after(() => t.close());

  it('a 2026-07-28 tools/call result carries every security header, as /healthz does', async () => {
    const res = await modernCall(key, 1);
    const body = (await res.json()) as { result?: { resultType?: string } };
    assert.equal(res.status, 200);
    assert.equal(body.result?.resultType, 'complete');
    for (const h of SECURITY) assert.equal(res.headers.get(h), expected[h], h);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.ok(res.headers.get('ratelimit'), 'the RateLimit fields are still there');
  });

  it('an in-band error answer (unknown tool) carries them too', async () => {
    const res = await modernCall(key, 2, 'no_such_tool');
    await res.text();
    for (const h of SECURITY) assert.equal(res.headers.get(h), expected[h], h);
  });

  it("every answer has its own request id, never another request's", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => modernCall(key, 10 + i)));
    const ids = answers.map((r) => r.headers.get('x-request-id'));
    await Promise.all(answers.map((r) => r.text()));
    for (const id of ids) assert.match(id ?? '', /^req_[0-9a-f]{32}$/);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(
      ids.filter((id) => (id?.match(/req_/g) ?? []).length !== 1).length,
      0,
      'one id per header, not two joined',
    );
  });
});
