import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonDepthExceeds, readJsonBody } from './read-body.js';

const req = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
  new Request('http://h/mcp', { method: 'POST', body, headers });

describe('reading request bodies', () => {
  it('counts nesting outside strings only', () => {
    assert.equal(jsonDepthExceeds('[[[]]]', 3), false);
    assert.equal(jsonDepthExceeds('[[[[]]]]', 3), true);
    assert.equal(jsonDepthExceeds('{"a":"[[[[[[[[[["}', 2), false);
    assert.equal(jsonDepthExceeds('{"a":"\\"[[[[[[["}', 2), false);
    assert.equal(jsonDepthExceeds('['.repeat(1_000_000), 64), true);
  });

  it('parses a good body and reports its size', async () => {
    const r = await readJsonBody(req('{"a":[1,2]}'), { limit: 100, maxDepth: 4 });
    assert.deepEqual(r, { ok: true, value: { a: [1, 2] }, bytes: 11 });
  });

  it('refuses a declared or streamed body over the limit, and bad JSON or UTF-8', async () => {
    const opts = { limit: 10, maxDepth: 4 };
    assert.deepEqual(await readJsonBody(req('{"a":"0123456789"}'), opts), {
      ok: false,
      problem: 'too-large',
    });
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"a":'));
        c.enqueue(new TextEncoder().encode('"0123456789"}'));
        c.close();
      },
    });
    assert.deepEqual(
      await readJsonBody(new Request('http://h', { method: 'POST', body: stream, duplex: 'half' }), opts),
      { ok: false, problem: 'too-large' },
    );
    assert.deepEqual(await readJsonBody(req('{'), opts), { ok: false, problem: 'not-json' });
    assert.deepEqual(await readJsonBody(req(new Uint8Array([0x22, 0xff, 0x22])), opts), {
      ok: false,
      problem: 'not-utf8',
    });
    assert.deepEqual(await readJsonBody(req('  '), opts), { ok: false, problem: 'empty' });
    assert.deepEqual(await readJsonBody(req('[[[[[1]]]]]'), { limit: 100, maxDepth: 4 }), {
      ok: false,
      problem: 'too-deep',
    });
  });
});
