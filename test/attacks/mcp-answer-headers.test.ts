import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditTip, modernHeaders, modernToolCall, recordsAfter } from '../helpers/audit-records.js';
import { postMcp, startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Red team for the /mcp answer built with the HTTP layer's common headers in one plain object
// (wire/common-headers.ts): the middleware leaves a marked answer alone, so every other path must
// still get them from it, and the fast one must carry all of them. Every /mcp answer, whatever
// path produced it (401 challenge, 429, 413, bad JSON, batch, notification, 2025 session, SSE
// stream, a wrong method), must carry what /healthz carries and exactly one request id of its own;
// the record of a 2026-07-28 tools/call must count the bytes of the result that was sent.

const SECURITY = [
  'x-content-type-options',
  'referrer-policy',
  'x-frame-options',
  'cross-origin-resource-policy',
  'content-security-policy',
  'cache-control',
];

describe('attack: an /mcp answer path without the security headers or its own request id', () => {
  let t: TestGateway;
  let key: string;
  let narrow: string;
  let expected: Record<string, string | null>;
  const seen = new Set<string>();
  const statuses: string[] = [];

  const check = async (label: string, res: Response, read = true): Promise<string> => {
    statuses.push(`${label}=${res.status}`);
    const body = read ? await res.text() : '';
    // An event stream sets its own cache control (no-cache, no-transform), as on main.
    const stream = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
    for (const h of SECURITY) {
      if (h === 'cache-control' && stream) assert.match(res.headers.get(h) ?? '', /no-cache/, label);
      else assert.equal(res.headers.get(h), expected[h], `${label}: ${h}`);
    }
    const id = res.headers.get('x-request-id') ?? '';
    assert.match(id, /^req_[0-9a-f]{32}$/, `${label}: one request id`);
    assert.ok(!seen.has(id), `${label}: its own request id`);
    seen.add(id);
    return body;
  };

  before(async () => {
    t = await startTestGateway({
      env: {
        PORTCULLIS_RATE_LIMITS__FAILED_AUTH__POINTS: '3',
        PORTCULLIS_SERVER__BODY_LIMIT_BYTES: '65536',
      },
    });
    key = (await t.key()).key;
    narrow = (await t.key({ owner: 'bob', scopes: [] })).key;
    const health = await fetch(new URL('/healthz', t.url));
    await health.text();
    expected = Object.fromEntries(SECURITY.map((h) => [h, health.headers.get(h)]));
    for (const h of SECURITY) assert.ok(expected[h], `/healthz carries ${h}`);
  });
  after(() => t.close());
  after(() => console.log(statuses.join(' ')));

  it('2026-07-28 tools/call answers: result, unknown tool, name mismatch, scope denial', async () => {
    await check(
      'result',
      await fetch(t.url, {
        method: 'POST',
        headers: modernHeaders(key, 'tools/call', 'memory_search'),
        body: JSON.stringify(modernToolCall('memory_search', { query: 'x' })),
      }),
    );
    await check(
      'unknown tool',
      await fetch(t.url, {
        method: 'POST',
        headers: modernHeaders(key, 'tools/call', 'nope'),
        body: JSON.stringify(modernToolCall('nope', {})),
      }),
    );
    await check(
      'mcp-name mismatch',
      await fetch(t.url, {
        method: 'POST',
        headers: modernHeaders(key, 'tools/call', 'other'),
        body: JSON.stringify(modernToolCall('memory_search', { query: 'x' })),
      }),
    );
    await check(
      'no scope',
      await fetch(t.url, {
        method: 'POST',
        headers: modernHeaders(narrow, 'tools/call', 'memory_search'),
        body: JSON.stringify(modernToolCall('memory_search', { query: 'x' })),
      }),
    );
  });

  it('refusals before any stage: 401, bad JSON, batch, oversized body, wrong method', async () => {
    await check('no token', await postMcp(t.url, { jsonrpc: '2.0', id: 1, method: 'ping' }));
    await check('bad JSON', await postMcp(t.url, undefined, { key, raw: '{"jsonrpc":' }));
    await check(
      'batch',
      await postMcp(
        t.url,
        [
          { jsonrpc: '2.0', id: 1, method: 'ping' },
          { jsonrpc: '2.0', id: 2, method: 'ping' },
        ],
        { key },
      ),
    );
    await check(
      'too large',
      await postMcp(t.url, undefined, { key, raw: `{"x":"${'a'.repeat(9_000_000)}"}` }),
    );
    await check('PUT', await fetch(t.url, { method: 'PUT', headers: { authorization: `Bearer ${key}` } }));
  });

  it('2025 session: initialize, notification (202), GET stream, DELETE', async () => {
    const init = await postMcp(
      t.url,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'a', version: '1' } },
      },
      { key },
    );
    const session = init.headers.get('mcp-session-id');
    await check('initialize', init);
    const headers: Record<string, string> = session ? { 'mcp-session-id': session } : {};
    const h = { key, headers };
    await check(
      'notification',
      await postMcp(t.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, h),
    );
    await check(
      '2025 tools/call',
      await postMcp(
        t.url,
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'memory_search', arguments: { query: 'x' } },
        },
        h,
      ),
    );
    if (!session) return; // a stateless 2025 answer: no stream or session to end
    const ac = new AbortController();
    const stream = await fetch(t.url, {
      method: 'GET',
      headers: {
        accept: 'text/event-stream',
        authorization: `Bearer ${key}`,
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-11-25',
      },
      signal: ac.signal,
    });
    await check('GET stream', stream, false);
    ac.abort();
    await check(
      'DELETE',
      await fetch(t.url, {
        method: 'DELETE',
        headers: {
          authorization: `Bearer ${key}`,
          'mcp-session-id': session,
          'mcp-protocol-version': '2025-11-25',
        },
      }),
    );
  });

  it("a 2026-07-28 tools/call record's bytesOut is the size of the result sent", async () => {
    const tip = await auditTip(t);
    const res = await fetch(t.url, {
      method: 'POST',
      headers: modernHeaders(key, 'tools/call', 'memory_search'),
      body: JSON.stringify(modernToolCall('memory_search', { query: 'bytes \u00e9\u{1F600}' })),
    });
    const text = await check('bytesOut', res);
    const { result } = JSON.parse(text) as { result: Record<string, unknown> };
    delete result.resultType;
    delete result._meta;
    const records = await recordsAfter(t, tip, 'tool-call');
    assert.equal(records.length, 1);
    assert.equal(records[0]!.bytesOut, Buffer.byteLength(JSON.stringify(result)));
  });

  it('the failed-authentication limit: repeated bad tokens until 429 (last: it blocks the address)', async () => {
    const got: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await postMcp(t.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { key: 'pk_bad' });
      got.push(res.status);
      await check(`bad token ${i}`, res);
    }
    assert.ok(got.includes(429), `a 429 among ${got.join(',')}`);
  });
});
