import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import { classifyPost, forgetClassifications, type ClassifyInput } from '../../src/mcp/classify-request.js';

/**
 * Attack: teach the era classification cache (mcp/classify-request.ts) an outcome with one body,
 * then send a body it files under the same key but the SDK classifies otherwise: a tool name that
 * disagrees with the Mcp-Name header, params of the wrong type beside a valid `_meta`, a
 * `__proto__` key from JSON.parse, duplicate keys, ids of -0 and 1e21, a string id. Every body is
 * sent in both orders after each header set, so each one can be the body that teaches the cache.
 */
const V = '2026-07-28';
const meta = {
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientInfo': { name: 'c', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const metaJson = JSON.stringify(meta).slice(1, -1);
const call = (params: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params });
const bodies: unknown[] = [
  call({ name: 'echo', arguments: {}, _meta: meta }),
  call({ name: 'other', arguments: {}, _meta: meta }),
  call({ arguments: {}, _meta: meta }),
  call({ name: 5, _meta: meta }),
  call({ name: 'echo', protocolVersion: '2025-06-18', _meta: meta }),
  call({ name: 'echo', _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2025-06-18' } }),
  call({ name: 'echo', _meta: { ...meta, progressToken: -0 } }),
  call({ name: 'echo', _meta: { ...meta, progressToken: 1e21 } }),
  call({ name: 'echo', _meta: { ...meta, big: 'x'.repeat(5000) } }),
  call({ name: 'echo', arguments: 'x', _meta: meta }),
  call({ name: 'echo', _meta: { ...meta, 'io.modelcontextprotocol/clientInfo': 1 } }),
  JSON.parse(
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","_meta":{"__proto__":{"a":1},${metaJson}},"__proto__":{"x":1}}}`,
  ),
  JSON.parse(
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"other","name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"x",${metaJson}}}}`,
  ),
  JSON.parse(
    `{"jsonrpc":"2.0","id":-0,"method":"tools/call","params":{"name":"echo","_meta":{${metaJson}}}}`,
  ),
  JSON.parse(
    `{"jsonrpc":"2.0","id":1e21,"method":"tools/call","params":{"name":"echo","_meta":{${metaJson}}}}`,
  ),
  { jsonrpc: '2.0', id: 'x', method: 'tools/call', params: { name: 'echo', _meta: meta } },
  { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } },
  { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { cursor: 5, _meta: meta } },
  { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 5, _meta: meta } },
  { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { _meta: meta } },
  { jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: 'echo', _meta: meta } },
  { jsonrpc: '2.0', id: 1, method: 'tools/\u0063all', params: { name: 'e\u0301cho', _meta: meta } },
];
const headers: [string | undefined, string | undefined, string | undefined][] = [
  [V, 'tools/call', 'echo'],
  [V, 'tools/call', 'other'],
  [V, 'tools/call', undefined],
  [V, 'tools/list', undefined],
  [V, 'resources/read', undefined],
  [V, 'prompts/get', 'echo'],
  [undefined, undefined, undefined],
];
const summary = (o: ReturnType<typeof classifyInboundRequest>) => JSON.stringify(o, (_k, v: unknown) => v);

describe('attack: a body the era cache files beside another but the SDK classifies otherwise', () => {
  it('every outcome equals the SDK’s, whichever body taught the cache', () => {
    let remembered = 0;
    for (const [v, m, n] of headers) {
      for (const order of [bodies, [...bodies].reverse()]) {
        forgetClassifications();
        for (const body of order) {
          for (let round = 0; round < 2; round++) {
            const input: ClassifyInput = {
              protocolVersionHeader: v,
              mcpMethodHeader: m,
              mcpNameHeader: n,
              body,
            };
            const want = classifyInboundRequest({ httpMethod: 'POST', ...input });
            const got = classifyPost(input);
            assert.equal(summary(got), summary(want), `${JSON.stringify([v, m, n])} ${JSON.stringify(body)}`);
            if (want.kind !== 'reject') remembered++;
          }
        }
      }
    }
    // Legitimate use beside it: some of these are accepted (so the cache was exercised).
    assert.ok(remembered > 0);
  });
});
