import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const call = (name: string, args: unknown, id: unknown = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('hostile input on /mcp', () => {
  let t: TestGateway;
  let key: string;
  let noteId: string;

  before(async () => {
    t = await startTestGateway();
    key = (await t.key()).key;
    const saved = await readRpc(
      await postMcp(t.url, call('memory_save', { content: 'canary note content' }), { key }),
    );
    noteId = saved.result.structuredContent.id;
  });

  after(async () => {
    // Whatever was thrown at it, the gateway still serves and the stored note is intact.
    const got = await readRpc(await postMcp(t.url, call('memory_get', { id: noteId }), { key }));
    assert.equal(got.result.structuredContent.content, 'canary note content');
    const found = await readRpc(await postMcp(t.url, call('memory_search', { query: 'canary' }), { key }));
    assert.equal(found.result.structuredContent.items.length, 1);
    await t.close();
  });

  const invalidArgs: [string, string, unknown][] = [
    ['a number where a string belongs', 'memory_save', { content: 123 }],
    ['an oversize string', 'memory_save', { content: 'x'.repeat(20_001) }],
    ['an empty string', 'memory_save', { content: '' }],
    ['an extra key', 'memory_save', { content: 'ok', admin: true }],
    ['a null byte', 'memory_save', { content: 'a\u0000b' }],
    ['too many tags', 'memory_save', { content: 'ok', tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }],
    ['a title over 200 characters', 'memory_save', { content: 'ok', title: 't'.repeat(201) }],
    ['a malformed id', 'memory_get', { id: "' OR 1=1 --" }],
    ['a limit out of range', 'memory_search', { query: 'x', limit: 51 }],
    ['a fractional limit', 'memory_search', { query: 'x', limit: 2.5 }],
    ['a query over 200 characters', 'memory_search', { query: 'q'.repeat(201) }],
    ['a __proto__ key', 'memory_save', JSON.parse('{"content":"ok","__proto__":{"admin":true}}')],
  ];
  for (const [what, tool, args] of invalidArgs) {
    it(`${what} is an isError result, never a 500`, async () => {
      const res = await postMcp(t.url, call(tool, args), { key });
      assert.equal(res.status, 200);
      const body = await readRpc(res);
      assert.equal(body.result.isError, true, JSON.stringify(body));
      assert.match(body.result.content[0].text, /Invalid arguments for/);
    });
  }

  // Not I-JSON (RFC 7493): the audit record could not name these arguments, so the call is
  // refused at the boundary, before any tool sees it (check-call.ts).
  for (const [what, raw] of [
    ['a lone surrogate', '{"content":"a\\ud800b"}'],
    ['a lone surrogate in a key', '{"content":"ok","\\udc00":1}'],
    ['a number too large for a double', '{"content":"ok","n":1e999}'],
  ]) {
    it(`${what} in the arguments is refused with -32602 naming where, never a 500`, async () => {
      const res = await postMcp(t.url, undefined, {
        key,
        raw: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"memory_save","arguments":${raw}}}`,
      });
      assert.equal(res.status, 200);
      const body = await readRpc(res);
      assert.equal(body.error?.code, -32602, JSON.stringify(body));
      assert.match(body.error.message, /not I-JSON .* at arguments/);
    });
  }

  for (const query of [
    '"unbalanced',
    'title:canary',
    'canary OR *',
    'NEAR(canary note)',
    '^canary',
    'canary AND NOT x',
    '-canary',
    "'; DROP TABLE notes; --",
  ]) {
    it(`full-text syntax in the query (${query}) is matched as plain words`, async () => {
      const body = await readRpc(await postMcp(t.url, call('memory_search', { query }), { key }));
      assert.equal(body.result.isError, undefined, JSON.stringify(body));
      assert.ok(Array.isArray(body.result.structuredContent.items));
    });
  }

  const badBodies: [string, string, number][] = [
    ['malformed JSON', '{"jsonrpc":"2.0",', 400],
    ['an empty body', '', 400],
    ['a JSON string', '"hello"', 400],
    ['a message without jsonrpc 2.0', '{"id":1,"method":"tools/list"}', 400],
    ['a method that is not a string', '{"jsonrpc":"2.0","id":1,"method":7}', 400],
    ['params that are an array', '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1]}', 400],
    ['an object id', '{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}', 400],
    [
      'a batch',
      '[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]',
      400,
    ],
    [
      'a huge batch',
      JSON.stringify(
        Array.from({ length: 5000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/list' })),
      ),
      400,
    ],
    [
      'deeply nested JSON',
      `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`,
      400,
    ],
    [
      'a body over the size limit',
      JSON.stringify(call('memory_save', { content: 'x'.repeat(2 * 1024 * 1024) })),
      413,
    ],
  ];
  for (const [what, raw, status] of badBodies) {
    it(`${what} gets ${status} with a JSON-RPC error`, async () => {
      const res = await postMcp(t.url, undefined, { key, raw });
      assert.equal(res.status, status);
      const body = (await res.json()) as { error: { code: number } };
      assert.ok(body.error.code <= -32600, JSON.stringify(body));
    });
  }

  it('invalid UTF-8 in the body gets 400', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${key}`,
      },
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    assert.equal(res.status, 400);
  });

  it('an unauthenticated oversize body is refused with 401 before it is read', async () => {
    const res = await postMcp(t.url, undefined, { raw: 'x'.repeat(3 * 1024 * 1024) });
    assert.equal(res.status, 401);
  });

  for (const args of [['content'], 'note_x', 42, null]) {
    it(`tool arguments that are not an object (${JSON.stringify(args)}) get invalid params`, async () => {
      const body = await readRpc(await postMcp(t.url, call('memory_save', args), { key }));
      assert.equal(body.error?.code, -32602);
      assert.match(body.error.message, /arguments/);
    });
  }

  it('a call without a tool name gets invalid params', async () => {
    const body = await readRpc(
      await postMcp(t.url, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: {} }, { key }),
    );
    assert.equal(body.error?.code, -32602);
  });

  it('an unsupported protocol version header is refused before any tool runs', async () => {
    const res = await postMcp(t.url, call('memory_save', { content: 'should not be saved' }), {
      key,
      headers: { 'mcp-protocol-version': '1999-01-01' },
    });
    assert.equal(res.status, 400);
    const found = await readRpc(
      await postMcp(t.url, call('memory_search', { query: 'should not be saved' }), { key }),
    );
    assert.deepEqual(found.result.structuredContent.items, []);
  });

  it('a 2025 client that does not accept event streams gets 406 and nothing runs', async () => {
    const res = await postMcp(t.url, call('memory_save', { content: 'not acceptable note' }), {
      key,
      headers: { accept: 'application/json' },
    });
    assert.equal(res.status, 406);
    const found = await readRpc(
      await postMcp(t.url, call('memory_search', { query: 'acceptable' }), { key }),
    );
    assert.deepEqual(found.result.structuredContent.items, []);
  });

  it('a bad Origin with a good Host is 403', async () => {
    const res = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { key, headers: { origin: 'https://evil.example' } },
    );
    assert.equal(res.status, 403);
  });

  it('the literal Origin "null" is 403', async () => {
    const res = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { key, headers: { origin: 'null' } },
    );
    assert.equal(res.status, 403);
  });

  it('the gateway’s own origin is accepted', async () => {
    const origin = new URL(t.url).origin;
    const res = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { key, headers: { origin } },
    );
    assert.equal(res.status, 200);
  });

  it('a bad Host is 403 on every route', async () => {
    const { request } = await import('node:http');
    const u = new URL(t.url);
    for (const path of ['/mcp', '/healthz']) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: u.hostname,
            port: u.port,
            path,
            method: 'GET',
            headers: { host: 'rebind.attacker.example' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 403, path);
    }
  });

  it('responses carry security headers and a request id', async () => {
    const res = await fetch(new URL('/healthz', t.url));
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.match(res.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    assert.match(res.headers.get('x-request-id')!, /^req_/);
  });
});
