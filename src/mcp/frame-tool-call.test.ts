import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMcpHandler } from '@modelcontextprotocol/server';
import type { Principal } from '../auth/index.js';
import { frameModernToolCall } from './frame-tool-call.js';
import type { McpPipeline, ToolCallOutcome } from './context.js';
import { toAuthInfo } from './request-state.js';
import { createServerFactory } from './server-factory.js';

const principal: Principal = {
  subject: 'alice',
  tenant: 'alice',
  credentialId: 'k1',
  authMethod: 'api-key',
  scopes: new Set(['memory:read']),
  binding: 'api-key:k1',
};
const meta = { requestId: 'req_1', ip: '127.0.0.1', bytesIn: 0 };
const unused = () => Promise.reject(new Error('not used'));
const pipeline: McpPipeline = {
  authenticate: unused,
  listTools: unused,
  listPrompts: unused,
  listResourceTemplates: unused,
  listResources: unused,
  callTool: unused,
  subscribe: unused,
  recordRound: unused,
};

/** What the SDK's own 2026-07-28 handler answers for the same finished outcome. */
async function viaSdk(id: string | number, outcome: ToolCallOutcome): Promise<Response> {
  const handler = createMcpHandler(createServerFactory(pipeline), { legacy: 'reject' });
  const body = {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: 'memory_search',
      arguments: {},
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
        'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {}, url: {} } },
      },
    },
  };
  const request = new Request('http://127.0.0.1/mcp', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-method': 'tools/call',
      'mcp-name': 'memory_search',
      'mcp-protocol-version': '2026-07-28',
    },
    body: JSON.stringify(body),
  });
  const res = await handler.fetch(request, { authInfo: toAuthInfo({ principal, meta, toolCall: outcome }) });
  await handler.close();
  return res;
}

const outcomes: [string, ToolCallOutcome & { kind: 'result' | 'rpc-error' | 'input-required' }][] = [
  [
    'a structured result',
    {
      kind: 'result',
      headers: {},
      result: {
        content: [{ type: 'text', text: 'Found 1 note.' }],
        structuredContent: { items: [{ id: 'n', title: '', snippet: 's' }] },
      },
    },
  ],
  [
    'an isError result',
    {
      kind: 'result',
      headers: {},
      result: { content: [{ type: 'text', text: 'Invalid arguments' }], isError: true },
    },
  ],
  [
    'an unknown tool',
    {
      kind: 'rpc-error',
      code: -32602,
      message: 'Unknown tool: nope. Call tools/list to see the available tools.',
    },
  ],
  [
    'an input-required confirmation (form elicitation and signed request state)',
    {
      kind: 'input-required',
      message: 'Portcullis asks you to approve a destructive action.\nTool: memory_delete',
      requestState: 'pcs1.eyJ9.c2ln',
    },
  ],
  [
    'an input-required approval link (URL elicitation, no request state)',
    {
      kind: 'input-required',
      message: "Portcullis needs alice's approval before the destructive tool memory_delete runs.",
      url: 'https://gw.example/approvals/apr_aaaaaaaaaaaaaaaaaaaaaa',
    },
  ],
  [
    'an internal error',
    { kind: 'rpc-error', code: -32603, message: 'Internal error (correlation id req_1).' },
  ],
];

describe('framing a finished 2026-07-28 tools/call', () => {
  for (const [what, outcome] of outcomes) {
    for (const id of [7, 'abc']) {
      it(`answers ${what} (id ${JSON.stringify(id)}) exactly as the SDK does`, async () => {
        const sdk = await viaSdk(id, outcome);
        const ours = frameModernToolCall(id, outcome);
        assert.equal(ours.status, sdk.status);
        assert.equal(ours.headers.get('content-type'), sdk.headers.get('content-type'));
        assert.deepEqual(JSON.parse(await ours.text()), JSON.parse(await sdk.text()));
      });
    }
  }
});

type Result = Extract<ToolCallOutcome, { kind: 'result' }>['result'];

describe('framing around the result JSON already serialised for the record', () => {
  const results: (readonly [string, Result])[] = [
    ...outcomes.flatMap(([what, o]) => (o.kind === 'result' ? [[what, o.result] as const] : [])),
    ['an empty result', {} as Result],
    ['a result with its own _meta', { content: [], _meta: { 'x.example/note': 'mine' } }],
    ['a result with its own resultType', { content: [], resultType: 'incomplete' }],
    ['a result with a key that needs escaping', { content: [{ type: 'text', text: '"}\u2028' }] }],
  ];
  for (const [what, result] of results) {
    for (const id of [7, 'a"b', null]) {
      it(`gives byte for byte the same answer for ${what} (id ${JSON.stringify(id)})`, async () => {
        const plain = frameModernToolCall(id, { kind: 'result', headers: {}, result });
        const around = frameModernToolCall(id, {
          kind: 'result',
          headers: {},
          result,
          resultJson: JSON.stringify(result),
        });
        assert.equal(await around.text(), await plain.text());
      });
    }
  }

  it("keeps the server's _meta over a result's own, as the object spread does", async () => {
    const result = { content: [], _meta: { 'x.example/note': 'mine' } } as Result;
    const res = frameModernToolCall(1, {
      kind: 'result',
      headers: {},
      result,
      resultJson: JSON.stringify(result),
    });
    const text = await res.text();
    assert.equal(text.split('"_meta"').length - 1, 1, 'one _meta member, not two');
    assert.equal(
      (JSON.parse(text) as { result: { _meta: object } }).result._meta['x.example/note' as never],
      undefined,
    );
  });
});
