import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  capturingLogger,
  eventually,
  NODE,
  REFERENCE_SERVERS,
  textOf,
  upstreamsConfig,
  type ToolResult,
} from '../helpers/upstream-servers.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/conformance-server.js');
const STRICT = path.resolve(import.meta.dirname, '../fixtures/strict-legacy-server.js');

/**
 * The gateway speaking 2026-07-28 to its upstreams: the conformance fixture (both eras) over
 * Streamable HTTP (`protocol` left at its HTTP default, `auto`) and over stdio (`auto`), a
 * 2025-only SDK 1.x server over stdio (`auto`: the probe fails, it is spoken to in 2025), and one
 * that exits on the probe (started again, in 2025). SDK v2
 * and v1 clients reach all three; the upstreams' own input-request keys reach a 2026-07-28 caller.
 */
describe('2026-07-28 upstreams behind the gateway', () => {
  let t: TestGateway;
  let fixture: ChildProcess;
  let key: string;
  const log = capturingLogger();

  before(async () => {
    fixture = spawn(NODE, [FIXTURE, '--http'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: fixture.stdout! }).once('line', resolve);
      fixture.once('exit', (code) => reject(new Error(`the fixture exited with ${code}`)));
    });
    const common = { tools: { '*': { class: 'read' } }, pinning: 'trust-on-first-use' };
    t = await startTestGateway({
      logger: log.logger,
      config: upstreamsConfig([
        { name: 'remote', http: { url, allowHttp: true, allowAddresses: ['127.0.0.1/32'] }, ...common },
        { name: 'local', stdio: { command: NODE, args: [FIXTURE] }, protocol: 'auto', ...common },
        {
          name: 'memory',
          stdio: { command: NODE, args: [REFERENCE_SERVERS.memory] },
          protocol: 'auto',
          ...common,
        },
        { name: 'strict', stdio: { command: NODE, args: [STRICT] }, protocol: 'auto', ...common },
      ]),
    });
    key = (await t.key({ scopes: ['remote:read', 'local:read', 'memory:read', 'strict:read'] })).key;
    await eventually(
      async () => (new Set(connected().map(([name]) => name)).size === 4 ? true : undefined),
      'all four upstreams to connect',
      300,
    );
  });
  after(async () => {
    await t?.close();
    fixture?.kill();
  });

  /** The era each upstream was connected in, from the gateway's own log. */
  const connected = () =>
    log.lines
      .map((l) => JSON.parse(l) as { msg?: string; upstream?: string; protocolVersion?: string })
      .filter((l) => l.msg === 'upstream connected')
      .map((l) => [l.upstream, l.protocolVersion]);

  it('negotiates 2026-07-28 with the fixture over HTTP and stdio, and 2025 with the SDK 1.x server', () => {
    const eras = Object.fromEntries(connected());
    assert.equal(eras.remote, '2026-07-28');
    assert.equal(eras.local, '2026-07-28');
    assert.match(String(eras.memory), /^2025-/);
    // A server that exits on the probe is started again and spoken to in 2025, once.
    assert.equal(eras.strict, '2025-11-25');
    assert.equal(log.lines.filter((l) => l.includes('stopped on the 2026-07-28 probe')).length, 1);
  });

  it('an SDK v2 client calls all four, and answers an upstream’s question through the gateway', async () => {
    const client = new ClientV2(
      { name: 'v2', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: { form: {} } } },
    );
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', (r) => {
      asked.push(r.params.message);
      return { action: 'accept', content: { name: 'Ada' } };
    });
    await client.connect(
      new TransportV2(new URL(t.url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }),
    );
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
      for (const name of ['remote__test_simple_text', 'local__test_simple_text']) {
        const r = (await client.callTool({ name, arguments: {} })) as ToolResult;
        assert.match(textOf(r), /simple text response/);
      }
      const graph = (await client.callTool({ name: 'memory__read_graph', arguments: {} })) as ToolResult;
      assert.notEqual(graph.isError, true, textOf(graph));
      const echo = (await client.callTool({ name: 'strict__echo', arguments: { text: 'hi' } })) as ToolResult;
      assert.match(textOf(echo), /echo: hi/);
      for (const upstream of ['remote', 'local']) {
        const r = (await client.callTool({
          name: `${upstream}__test_input_required_result_elicitation`,
          arguments: {},
        })) as ToolResult;
        assert.match(textOf(r), /Hello, Ada!/);
      }
      assert.equal(asked.length, 2);
      assert.ok(
        asked.every((m) =>
          /^Request from the upstream server "(remote|local)", not from Portcullis: /.test(m),
        ),
      );
    } finally {
      await client.close();
    }
  });

  it('a 2026-07-28 caller sees the upstream’s own key, and a -32021 comes back as -32021 with HTTP 400', async () => {
    const post = (name: string, caps: Record<string, unknown>) =>
      fetch(t.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${key}`,
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': name,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: {
            name,
            arguments: {},
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': caps,
            },
          },
        }),
      });
    const first = await post('remote__test_input_required_result_elicitation', { elicitation: {} });
    const body = (await first.json()) as { result: { resultType: string; inputRequests: object } };
    assert.equal(body.result.resultType, 'input_required');
    assert.deepEqual(Object.keys(body.result.inputRequests), ['user_name']);
    const missing = await post('remote__test_missing_capability', {});
    assert.equal(missing.status, 400);
    const error = ((await missing.json()) as { error: { code: number; data: unknown } }).error;
    assert.equal(error.code, -32021);
    assert.deepEqual(error.data, { requiredCapabilities: { sampling: {} } });
  });

  it('an SDK 1.x client with a session answers a 2026-07-28 upstream’s question on its own stream', async () => {
    const client = new ClientV1({ name: 'v1', version: '1' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { name: 'Grace' } }));
    await client.connect(
      new TransportV1(new URL(t.url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }),
    );
    try {
      const r = (await client.callTool({
        name: 'remote__test_input_required_result_elicitation',
        arguments: {},
      })) as ToolResult;
      assert.match(textOf(r), /Hello, Grace!/);
    } finally {
      await client.close();
    }
  });
});
