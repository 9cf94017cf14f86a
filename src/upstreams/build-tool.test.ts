import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ToolInputError, type ToolContext } from '../tools/index.js';
import { buildUpstreamTool, capOutput, createSchemaCompiler, prepareSchema } from './build-tool.js';
import { classifyTool } from './classify-tool.js';
import type { ToolDefinition } from './mcp-client.js';

const ctx = { principal: {}, requestId: 'r', signal: new AbortController().signal } as unknown as ToolContext;

function tool(def: Partial<ToolDefinition>, reply: unknown = { content: [{ type: 'text', text: 'ok' }] }) {
  const definition: ToolDefinition = {
    name: 'get',
    inputSchema: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
    ...def,
  };
  return buildUpstreamTool({
    upstream: 'svc',
    definition,
    classification: classifyTool('svc', definition.name, {}, undefined),
    ajv: createSchemaCompiler(),
    maxOutputBytes: 2048,
    call: async () => reply,
  });
}

describe('upstream tools', () => {
  it('are namespaced, scoped <upstream>:<class> and labelled by the operator’s rules', () => {
    const t = tool({});
    assert.deepEqual([t.name, t.scope, t.class, t.upstream], ['svc__get', 'svc:write', 'write', 'svc']);
  });

  it('check arguments against the upstream schema, refusing unknown keys', () => {
    const t = tool({});
    assert.equal(t.checkArgs({ id: 2 }).ok, true);
    const bad = t.checkArgs({ id: 0, extra: 1 });
    assert.equal(bad.ok, false);
    const messages = bad.ok ? [] : bad.issues.map((i) => `${i.path}: ${i.message}`);
    assert.ok(messages.some((m) => /unknown field extra/.test(m)));
    assert.ok(messages.some((m) => m.startsWith('id:')));
  });

  it('keep an explicit additionalProperties and drop a draft-07 $schema', () => {
    const s = prepareSchema(
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        properties: {},
        additionalProperties: true,
      },
      true,
    );
    assert.deepEqual(s, { type: 'object', properties: {}, additionalProperties: true });
    assert.throws(
      () => prepareSchema({ $schema: 'https://evil.example/schema', type: 'object' }, true),
      /unsupported \$schema/,
    );
  });

  it('a schema that does not compile (unknown keyword, remote $ref) blocks the tool', () => {
    assert.throws(() =>
      tool({ inputSchema: { type: 'object', properties: { a: { type: 'string', frobnicate: 1 } } } }),
    );
    assert.throws(() => tool({ inputSchema: { type: 'object', $ref: 'https://evil.example/s.json' } }));
  });

  it('structured output that breaks the declared output schema is refused with a clear error', async () => {
    const t = tool(
      { outputSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } },
      { content: [], structuredContent: { n: 'not a number' } },
    );
    await assert.rejects(
      t.execute({ id: 1 }, ctx),
      (err: Error) => err instanceof ToolInputError && /output schema/.test(err.message),
    );
  });

  it('an upstream error result passes through as an error, without structured content', async () => {
    const t = tool(
      {},
      { content: [{ type: 'text', text: 'nope' }], isError: true, structuredContent: { x: 1 } },
    );
    assert.deepEqual(await t.execute({ id: 1 }, ctx), {
      content: [{ type: 'text', text: 'nope' }],
      isError: true,
    });
  });

  it('long text is cut to the byte cap with a notice; other blocks that do not fit are dropped', () => {
    const out = capOutput(
      {
        content: [
          { type: 'text', text: 'é'.repeat(5000) },
          { type: 'image', data: 'x'.repeat(5000), mimeType: 'image/png' },
        ],
      },
      2048,
      'svc',
    );
    assert.equal(out.content.length, 2);
    const text = (out.content[0] as { text: string }).text;
    assert.ok(Buffer.byteLength(text) <= 2048 && !text.includes('\uFFFD'));
    assert.match((out.content[1] as { text: string }).text, /truncated/);
  });

  it('resource links and embedded resources in a result are put in the upstream’s own namespace', async () => {
    const t = tool(
      {},
      {
        content: [
          { type: 'resource_link', uri: 'portcullis://bank/1', name: 'x' },
          { type: 'resource', resource: { uri: 'file:///a', text: 'a' } },
        ],
      },
    );
    const out = await t.execute({ id: 1 }, ctx);
    assert.deepEqual(out.content, [
      { type: 'resource_link', uri: 'portcullis://svc/portcullis://bank/1', name: 'x' },
      { type: 'resource', resource: { uri: 'portcullis://svc/file:///a', text: 'a' } },
    ]);
  });
});
