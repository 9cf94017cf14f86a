import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createMcpHandler, Server } from '@modelcontextprotocol/server';
import { checkContentType, checkMessage, HEADER_MISMATCH, MODERN_REVISIONS } from './check-request.js';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const b64 = (s: string) => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;

function modern(method: string, params: Record<string, unknown>, revision = '2026-07-28') {
  return {
    jsonrpc: '2.0',
    id: 1,
    method,
    params: { ...params, _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': revision } },
  };
}

const headersFor = (method: string, name?: string, revision = '2026-07-28'): Record<string, string> => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': revision,
  'mcp-method': method,
  ...(name === undefined ? {} : { 'mcp-name': name }),
});
const drop = (h: Record<string, string>, name: string) => {
  const copy = { ...h };
  delete copy[name];
  return copy;
};

/** The SDK's own 2026-07-28 entry, with handlers for every method a case sends. */
const sdk = createMcpHandler(
  () => {
    const server = new Server(
      { name: 'oracle', version: '1' },
      { capabilities: { tools: {}, prompts: {}, resources: {} } },
    );
    server.setRequestHandler('tools/call', () => ({ content: [] }));
    server.setRequestHandler('tools/list', () => ({ tools: [] }));
    server.setRequestHandler('prompts/get', () => ({ messages: [] }));
    server.setRequestHandler('resources/read', () => ({ contents: [] }));
    return server;
  },
  { legacy: 'reject' },
);
after(() => sdk.close());

type Case = [string, Record<string, string>, unknown];
const call = modern('tools/call', { name: 'memory_save', arguments: {} });
const cases: Case[] = [
  ['agreeing headers', headersFor('tools/call', 'memory_save'), call],
  ['Mcp-Name in Base64', headersFor('tools/call', b64('memory_save')), call],
  ['Mcp-Name with surrounding whitespace', headersFor('tools/call', ' memory_save\t'), call],
  ['Mcp-Name naming another tool', headersFor('tools/call', 'memory_get'), call],
  ['Mcp-Name naming another tool in Base64', headersFor('tools/call', b64('memory_get')), call],
  ['Mcp-Name with broken Base64', headersFor('tools/call', '=?base64?@@@?='), call],
  ['Mcp-Name with Base64 of invalid UTF-8', headersFor('tools/call', '=?base64?/w==?='), call],
  ['no Mcp-Name', headersFor('tools/call'), call],
  ['no Mcp-Method', drop(headersFor('tools/call', 'memory_save'), 'mcp-method'), call],
  ['another Mcp-Method', headersFor('tools/list', 'memory_save'), call],
  ['no MCP-Protocol-Version', drop(headersFor('tools/call', 'memory_save'), 'mcp-protocol-version'), call],
  ['another MCP-Protocol-Version', headersFor('tools/call', 'memory_save', '2025-11-25'), call],
  [
    'an unserved revision',
    headersFor('tools/call', 'memory_save', '2099-01-01'),
    modern('tools/call', { name: 'memory_save', arguments: {} }, '2099-01-01'),
  ],
  ['tools/list with no Mcp-Name', headersFor('tools/list'), modern('tools/list', {})],
  ['tools/list with a stray Mcp-Name', headersFor('tools/list', 'anything'), modern('tools/list', {})],
  ['prompts/get naming another prompt', headersFor('prompts/get', 'b'), modern('prompts/get', { name: 'a' })],
  [
    'resources/read naming another resource',
    headersFor('resources/read', 'file:///b'),
    modern('resources/read', { uri: 'file:///a' }),
  ],
  [
    'resources/read naming its resource',
    headersFor('resources/read', 'file:///a'),
    modern('resources/read', { uri: 'file:///a' }),
  ],
];

describe('2026-07-28 request checks, side by side with the SDK', () => {
  for (const [what, headers, body] of cases) {
    it(`${what}: refused exactly when the SDK refuses, with its status and code`, async () => {
      const res = await sdk.fetch(
        new Request('http://127.0.0.1/mcp', { method: 'POST', headers, body: JSON.stringify(body) }),
      );
      const answer = (await res.json()) as { error?: { code: number } };
      const theirs = res.status >= 400 ? { status: res.status, code: answer.error?.code } : undefined;
      const checked = checkMessage(new Headers(headers), body);
      const ours = checked.refusal && { status: checked.refusal.status, code: checked.refusal.code };
      assert.deepEqual(ours, theirs);
    });
  }
});

describe('the revisions served', () => {
  it('are the modern revisions the SDK serves', async () => {
    const res = await sdk.fetch(
      new Request('http://127.0.0.1/mcp', {
        method: 'POST',
        headers: headersFor('tools/list', undefined, '2099-01-01'),
        body: JSON.stringify(modern('tools/list', {}, '2099-01-01')),
      }),
    );
    const answer = (await res.json()) as { error: { data: { supported: string[] } } };
    assert.deepEqual(answer.error.data.supported, MODERN_REVISIONS);
  });
});

describe('2025 request checks', () => {
  const legacyHeaders = (extra: Record<string, string> = {}) =>
    new Headers({
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...extra,
    });
  const body = {
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'memory_save', arguments: {} },
  };

  it('pass without Mcp-Method or Mcp-Name, which 2025 clients do not send', () => {
    assert.deepEqual(checkMessage(legacyHeaders(), body), { route: 'legacy', message: body });
  });

  it('refuse Mcp-Method or Mcp-Name headers that contradict the body', () => {
    const contradicting: Record<string, string>[] = [
      { 'mcp-method': 'tools/list' },
      { 'mcp-name': 'memory_get' },
      { 'mcp-name': '=?base64?!?=' },
    ];
    for (const extra of contradicting) {
      assert.equal(checkMessage(legacyHeaders(extra), body).refusal?.code, HEADER_MISMATCH);
    }
    assert.equal(checkMessage(legacyHeaders({ 'mcp-name': 'memory_save' }), body).refusal, undefined);
  });

  it('refuse a client that does not accept an event stream (406), an unknown version and a notification tools/call', () => {
    assert.equal(checkMessage(new Headers({ accept: 'application/json' }), body).refusal?.status, 406);
    assert.equal(
      checkMessage(legacyHeaders({ 'mcp-protocol-version': '1999-01-01' }), body).refusal?.status,
      400,
    );
    const { id: _id, ...notification } = body;
    assert.equal(checkMessage(legacyHeaders(), notification).refusal?.errorCode, 'invalid-request');
  });

  it('refuse batches and bodies that are not one JSON-RPC message', () => {
    for (const bad of [
      [body],
      'x',
      { id: 1, method: 'tools/call' },
      { ...body, id: null },
      { ...body, extra: 1 },
    ]) {
      assert.equal(checkMessage(legacyHeaders(), bad).refusal?.status, 400, JSON.stringify(bad));
    }
  });
});

describe('the media type', () => {
  it('is application/json, with or without parameters, and nothing else', () => {
    for (const ok of ['application/json', 'application/json; charset=utf-8', 'Application/JSON']) {
      assert.equal(checkContentType(new Headers({ 'content-type': ok })), undefined, ok);
    }
    for (const bad of [
      'text/plain',
      'application/jsonx',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
    ]) {
      assert.equal(checkContentType(new Headers({ 'content-type': bad }))?.status, 415, bad);
    }
    assert.equal(checkContentType(new Headers())?.status, 415);
  });
});
