import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  auditTip,
  callWithBothSdks,
  countNotes,
  legacyToolCall,
  modernHeaders,
  modernToolCall,
  recordsAfter,
} from '../helpers/audit-records.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const b64 = (s: string) => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;

/**
 * 2026-07-28 (SEP-2243) requires MCP-Protocol-Version, Mcp-Method and, for tools/call, Mcp-Name
 * on every request, mirroring the body, so that a proxy can route and decide on headers alone.
 * A request whose headers are absent or disagree with its body must never reach a tool: a
 * proxy that allowed "memory_get" must not have let a memory_save through.
 */
describe('headers that disagree with the body', () => {
  let t: TestGateway;
  let key: string;
  before(async () => {
    t = await startTestGateway();
    key = (await t.key()).key;
  });
  after(() => t.close());

  const without = (headers: Record<string, string>, name: string) => {
    const copy = { ...headers };
    delete copy[name];
    return copy;
  };

  const modernCases: [string, (h: Record<string, string>) => Record<string, string>, number][] = [
    ['Mcp-Name names another tool', (h) => ({ ...h, 'mcp-name': 'memory_get' }), -32020],
    ['Mcp-Name is missing', (h) => without(h, 'mcp-name'), -32020],
    ['Mcp-Method is missing', (h) => without(h, 'mcp-method'), -32020],
    ['Mcp-Method names another method', (h) => ({ ...h, 'mcp-method': 'tools/list' }), -32020],
    ['MCP-Protocol-Version is missing', (h) => without(h, 'mcp-protocol-version'), -32020],
    [
      'MCP-Protocol-Version names another revision',
      (h) => ({ ...h, 'mcp-protocol-version': '2025-11-25' }),
      -32020,
    ],
    ['Mcp-Name carries another tool in Base64', (h) => ({ ...h, 'mcp-name': b64('memory_get') }), -32020],
    ['Mcp-Name carries broken Base64', (h) => ({ ...h, 'mcp-name': '=?base64?%%%?=' }), -32020],
  ];
  for (const [what, edit, code] of modernCases) {
    it(`a 2026-07-28 memory_save whose ${what} is refused with 400 before it runs, and recorded once`, async () => {
      const notes = countNotes(t.dataDir);
      const tip = await auditTip(t);
      const res = await fetch(t.url, {
        method: 'POST',
        headers: edit(modernHeaders(key, 'tools/call', 'memory_save')),
        body: JSON.stringify(modernToolCall('memory_save', { content: 'smuggled past the proxy' })),
      });
      assert.equal(res.status, 400);
      const body = await readRpc(res);
      assert.equal(body.error?.code, code, JSON.stringify(body));
      assert.equal(countNotes(t.dataDir), notes, 'nothing was stored');
      const records = await recordsAfter(t, tip, 'tool-call');
      assert.equal(records.length, 1);
      assert.equal(records[0]!.outcome, 'invalid');
      assert.equal(records[0]!.errorCode, 'header-mismatch');
    });
  }

  it('a 2026-07-28 call for a revision the gateway does not serve is refused before it runs', async () => {
    const notes = countNotes(t.dataDir);
    const body = modernToolCall('memory_save', { content: 'from the future' });
    body.params._meta['io.modelcontextprotocol/protocolVersion'] = '2099-01-01';
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { ...modernHeaders(key, 'tools/call', 'memory_save'), 'mcp-protocol-version': '2099-01-01' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 400);
    assert.equal((await readRpc(res)).error?.code, -32022);
    assert.equal(countNotes(t.dataDir), notes);
  });

  for (const [what, headers] of [
    ['Mcp-Name names another tool', { 'mcp-name': 'memory_get' }],
    ['Mcp-Method names another method', { 'mcp-method': 'tools/list' }],
  ] as const) {
    it(`a 2025-11-25 memory_save whose ${what} is refused with 400 before it runs`, async () => {
      const notes = countNotes(t.dataDir);
      const tip = await auditTip(t);
      const res = await postMcp(t.url, legacyToolCall('memory_save', { content: 'smuggled' }), {
        key,
        headers,
      });
      assert.equal(res.status, 400);
      assert.equal((await readRpc(res)).error?.code, -32020);
      assert.equal(countNotes(t.dataDir), notes);
      assert.equal((await recordsAfter(t, tip, 'tool-call')).length, 1);
    });
  }

  it('other methods are held to the same headers: a tools/list sent as tools/call is refused', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: modernHeaders(key, 'tools/call', 'memory_save'),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: { _meta: modernToolCall('x', {}).params._meta },
      }),
    });
    assert.equal(res.status, 400);
    assert.equal((await readRpc(res)).error?.code, -32020);
  });

  it('headers that agree with the body, in plain text or Base64, are served', async () => {
    const notes = countNotes(t.dataDir);
    for (const name of ['memory_save', b64('memory_save')]) {
      const res = await fetch(t.url, {
        method: 'POST',
        headers: { ...modernHeaders(key, 'tools/call'), 'mcp-name': name },
        body: JSON.stringify(modernToolCall('memory_save', { content: `agreed ${name}` })),
      });
      assert.equal(res.status, 200);
      assert.match((await readRpc(res)).result?.structuredContent?.id ?? '', /^note_/);
    }
    assert.equal(countNotes(t.dataDir), notes + 2);
  });

  it('an SDK v2 client on 2026-07-28 and an SDK 1.x client on 2025-11-25 still save notes', async () => {
    const notes = countNotes(t.dataDir);
    await callWithBothSdks(t.url, key, [{ name: 'memory_save', arguments: { content: 'legit' } }]);
    assert.equal(countNotes(t.dataDir), notes + 2);
  });
});
