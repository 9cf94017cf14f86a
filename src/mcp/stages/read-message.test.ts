import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { EndpointEnv, RequestContext } from '../context.js';
import { readMessage } from './read-message.js';

const env = { bodyLimitBytes: 64, jsonMaxDepth: 4, logger: pino({ level: 'silent' }) } as EndpointEnv;
const context = (body: string): RequestContext => ({
  env,
  request: new Request('http://127.0.0.1/mcp', { method: 'POST', body }),
  requestId: 'req_1',
  ip: '127.0.0.1',
  sessionId: undefined,
  id: null,
});
const handedOn = new Response('handed on');

async function refusal(body: string) {
  const response = await readMessage(context(body), () => assert.fail('handed on'));
  return [response.status, ((await response.json()) as { error: { code: number } }).error.code];
}

describe('the read-message stage', () => {
  it('refuses an oversized, unparsable, too deep or empty body with its status and JSON-RPC code', async () => {
    assert.deepEqual(await refusal('x'.repeat(65)), [413, -32600]);
    assert.deepEqual(await refusal('{"jsonrpc":'), [400, -32700]);
    assert.deepEqual(await refusal('[[[[[[1]]]]]]'), [400, -32600]);
    assert.deepEqual(await refusal(''), [400, -32600]);
  });

  it('hands on the parsed message, its size, and the id the answer may echo', async () => {
    const ctx = context('{"jsonrpc":"2.0","id":7,"method":"ping"}');
    assert.equal(await readMessage(ctx, () => Promise.resolve(handedOn)), handedOn);
    assert.equal(ctx.id, 7);
    assert.equal(ctx.body?.bytes, 40);
  });

  it('an id that is not a valid JSON-RPC id is not echoed', async () => {
    const ctx = context('{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}');
    await readMessage(ctx, () => Promise.resolve(handedOn));
    assert.equal(ctx.id, null);
  });
});
