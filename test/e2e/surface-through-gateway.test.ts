import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { recordsAfter, auditTip } from '../helpers/audit-records.js';
import { runCli } from '../helpers/cli.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { eventually, NODE, REFERENCE_SERVERS, upstreamsConfig } from '../helpers/upstream-servers.js';

/**
 * The reference "everything" server (npm registry, sandboxed stdio) behind a real gateway, used
 * through its resources, prompts, completions and progress by the SDK v2 client (2026-07-28)
 * and the SDK v1 client (2025-11-25). Everything goes through the gateway's call stages.
 */

/** The part of both SDK clients these tests use. */
interface SurfaceClient {
  listPrompts(): Promise<{ prompts: { name: string }[] }>;
  getPrompt(p: { name: string; arguments?: Record<string, string> }): Promise<any>;
  listResources(p?: {
    cursor?: string;
  }): Promise<{ resources: { uri: string; name: string }[]; nextCursor?: string }>;
  listResourceTemplates(): Promise<{ resourceTemplates: { uriTemplate: string }[] }>;
  readResource(p: { uri: string }): Promise<{ contents: any[] }>;
  complete(p: unknown): Promise<{ completion: { values: string[] } }>;
  callTool(
    p: { name: string; arguments?: Record<string, unknown> },
    schema?: unknown,
    opts?: unknown,
  ): Promise<any>;
  close(): Promise<void>;
}

const SCOPES = ['everything:prompts', 'everything:resources', 'everything:read', 'everything:write'];

async function connect(era: 'v1' | 'v2', url: string, key: string): Promise<SurfaceClient> {
  const requestInit = { headers: { authorization: `Bearer ${key}` } };
  if (era === 'v2') {
    const client = new ClientV2(
      { name: 'surface-v2', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(new TransportV2(new URL(url), { requestInit }));
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    return client;
  }
  const client = new ClientV1({ name: 'surface-v1', version: '1.0.0' });
  const transport = new TransportV1(new URL(url), { requestInit });
  await client.connect(transport);
  assert.equal(transport.protocolVersion, '2025-11-25');
  return client;
}

describe('the everything server’s resources, prompts and completions through the gateway', () => {
  let t: TestGateway;
  let key: string;

  before(async () => {
    t = await startTestGateway({
      config: upstreamsConfig([
        {
          name: 'everything',
          stdio: { command: NODE, args: [REFERENCE_SERVERS.everything, 'stdio'] },
          tools: { 'trigger-long-running-operation': { class: 'read' }, '*': { class: 'write' } },
        },
      ]),
    });
    key = (await t.key({ scopes: SCOPES })).key;
    const approved = await runCli(['pins', 'approve', 'everything', '--data-dir', t.dataDir]);
    assert.equal(approved.code, 0, approved.stderr);
  });
  after(async () => t?.close());

  for (const era of ['v2', 'v1'] as const) {
    describe(`with the SDK ${era} client`, () => {
      let client: SurfaceClient;
      before(async () => {
        client = await connect(era, t.url, key);
        await eventually(
          async () => ((await client.listPrompts()).prompts.length > 0 ? true : undefined),
          'approved prompts to be served',
        );
      });
      after(async () => client?.close());

      it('lists the prompts namespaced and the templates in the gateway’s URI namespace', async () => {
        const { prompts } = await client.listPrompts();
        assert.ok(prompts.some((p) => p.name === 'everything__simple-prompt'));
        assert.ok(prompts.every((p) => p.name.startsWith('everything__')));
        const { resourceTemplates } = await client.listResourceTemplates();
        assert.ok(resourceTemplates.length > 0);
        assert.ok(resourceTemplates.every((r) => r.uriTemplate.startsWith('portcullis://everything/')));
      });

      it('gets a prompt with its arguments, and refuses one missing a required argument', async () => {
        const got = await client.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Oslo' } });
        assert.equal(got.messages[0].role, 'user');
        assert.match(JSON.stringify(got.messages), /Oslo/);
        await assert.rejects(client.getPrompt({ name: 'everything__args-prompt', arguments: {} }), /city/);
      });

      it('lists resources under gateway URIs and reads one, wrapped as untrusted data', async () => {
        const { resources } = await client.listResources();
        assert.ok(resources.length > 0);
        assert.ok(resources.every((r) => r.uri.startsWith('portcullis://everything/')));
        const text = resources.find((r) => r.uri.endsWith('/architecture.md'))!;
        const read = await client.readResource({ uri: text.uri });
        assert.equal(read.contents[0].uri.startsWith('portcullis://everything/'), true);
        // Provenance markers name the source: the model can tell data from instructions.
        assert.match(read.contents[0].text, /<untrusted-data nonce="[0-9a-f]+" source="[^"]*everything/);
        assert.notEqual(read.contents[0].text.trim(), '');
      });

      it('completes a prompt argument through the upstream', async () => {
        const { completion } = await client.complete({
          ref: { type: 'ref/prompt', name: 'everything__completable-prompt' },
          argument: { name: 'department', value: 'E' },
        });
        assert.ok(completion.values.includes('Engineering'), JSON.stringify(completion));
      });

      it('a guessed URI of an upstream that does not exist is the same miss as an unknown resource', async () => {
        await assert.rejects(
          client.readResource({ uri: 'portcullis://elsewhere/demo://resource/static/1' }),
          /not found/i,
        );
        await assert.rejects(client.readResource({ uri: 'demo://resource/static/document/1' }), /not found/i);
      });

      it('relays the progress of a long upstream call to its caller', async () => {
        const seen: unknown[] = [];
        const options = { onprogress: (p: { progress: number }) => seen.push(p.progress) };
        const params = {
          name: 'everything__trigger-long-running-operation',
          arguments: { duration: 0.3, steps: 3 },
        };
        // v2 takes (params, options); v1 (params, resultSchema, options).
        const result = await (era === 'v2'
          ? client.callTool(params, options)
          : client.callTool(params, undefined, options));
        assert.notEqual(result.isError, true, JSON.stringify(result));
        assert.deepEqual(seen, [1, 2, 3]);
      });
    });
  }

  it('each read, prompt and completion leaves a record with its own event and upstream', async () => {
    const tip = await auditTip(t);
    const client = await connect('v2', t.url, key);
    try {
      await client.getPrompt({ name: 'everything__simple-prompt' });
      const { resources } = await client.listResources();
      await client.readResource({ uri: resources[0]!.uri });
    } finally {
      await client.close();
    }
    const records = await recordsAfter(t, tip);
    const prompt = records.find((r) => r.event === 'prompt-get');
    const read = records.find((r) => r.event === 'resource-read');
    assert.equal(prompt?.tool, 'everything__simple-prompt');
    assert.equal(prompt?.upstream, 'everything');
    assert.equal(read?.upstream, 'everything');
    assert.equal(read?.scope, 'everything:resources');
    assert.ok(records.some((r) => r.event === 'surface-list' && r.tool === 'resources/list'));
  });

  it('a caller without the upstream’s resources scope sees no resources and is refused a read with 403', async () => {
    const other = (await t.key({ scopes: ['everything:prompts'] })).key;
    const list = await readRpc(
      await postMcp(t.url, { jsonrpc: '2.0', id: 1, method: 'resources/list', params: {} }, { key: other }),
    );
    assert.deepEqual(list.result?.resources, []);
    const res = await postMcp(
      t.url,
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'resources/read',
        params: { uri: 'portcullis://everything/demo://resource/static/document/architecture.md' },
      },
      { key: other },
    );
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /scope="everything:resources"/);
  });
});
