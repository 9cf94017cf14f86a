import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discover, listPrompts, listResourceTemplates, readCapabilities } from './mcp-client.js';
import { UpstreamError } from './errors.js';
import type { Channel, RpcConnection } from './rpc-connection.js';

/** A connection whose server answers each method with the given pages, in order. */
function serving(pages: Record<string, unknown[]>): RpcConnection {
  const seen: Record<string, number> = {};
  return {
    closed: new Promise(() => {}),
    async request(method) {
      const i = seen[method] ?? 0;
      seen[method] = i + 1;
      return pages[method]?.[i];
    },
    notify: async () => {},
    setEnvelope: () => {},
    close: async () => {},
  };
}

describe('listing prompts and resource templates', () => {
  it('reads declared capabilities strictly: only true means yes, an object means declared', () => {
    assert.deepEqual(
      readCapabilities({
        prompts: { listChanged: 'yes' },
        resources: { subscribe: true },
        completions: {},
        logging: 1,
      }),
      {
        tools: undefined,
        prompts: { listChanged: false },
        resources: { subscribe: true, listChanged: false },
        completions: true,
        logging: false,
      },
    );
  });

  it('pages through prompts and records each malformed one with its problem, serving the rest', async () => {
    const conn = serving({
      'prompts/list': [
        {
          prompts: [
            {
              name: 'ok',
              description: 'Fine.',
              arguments: [{ name: 'city', required: true, extra: 'dropped' }],
            },
            { name: 'bad name!' },
            { name: 'n'.repeat(129) },
            { name: 'dup', arguments: [{ name: 'a' }, { name: 'a' }] },
            { name: 'argname', arguments: [{ name: 'has space' }] },
            { name: 'texts', description: 42 },
            'not an object',
          ],
          nextCursor: 'p2',
        },
        { prompts: [{ name: 'ok' }, { name: 'two', title: 'Two' }] },
      ],
    });
    const { prompts, malformed } = await listPrompts(conn, { timeoutMs: 1000 });
    assert.deepEqual(prompts, [
      { name: 'ok', description: 'Fine.', arguments: [{ name: 'city', required: true }] },
      { name: 'two', title: 'Two' },
    ]);
    assert.deepEqual(
      malformed.map((m) => m.name),
      [
        'prompt:bad name!',
        `prompt:${'n'.repeat(128)}`,
        'prompt:dup',
        'prompt:argname',
        'prompt:texts',
        'prompt:(not an object)',
        'prompt:ok',
      ],
    );
    assert.match(malformed[2]!.problem, /declared twice/);
    assert.match(malformed[6]!.problem, /more than once/);
  });

  it('accepts a uriTemplate only as a bounded string without spaces or controls', async () => {
    const conn = serving({
      'resources/templates/list': [
        {
          resourceTemplates: [
            { uriTemplate: 'file:///{path}', name: 'files', mimeType: 'text/plain' },
            { uriTemplate: 'x://'.padEnd(2049, 'a'), name: 'long' },
            { uriTemplate: 'x://a b/{id}', name: 'space' },
            { uriTemplate: 7, name: 'number' },
            { uriTemplate: 'x://{id}' },
          ],
        },
      ],
    });
    const { resourceTemplates, malformed } = await listResourceTemplates(conn, { timeoutMs: 1000 });
    assert.deepEqual(resourceTemplates, [
      { uriTemplate: 'file:///{path}', name: 'files', mimeType: 'text/plain' },
    ]);
    assert.equal(malformed.length, 4);
    assert.ok(malformed.every((m) => m.name.startsWith('resource-template:')));
  });

  it('a server paging without end is a protocol error, not a hang', async () => {
    const endless = { prompts: [], nextCursor: 'again' };
    let n = 0;
    const conn: RpcConnection = {
      ...serving({}),
      request: async () => ({ ...endless, nextCursor: `c${n++}` }),
    };
    await assert.rejects(
      listPrompts(conn, { timeoutMs: 1000, maxPages: 5 }),
      /paginated prompts\/list without end/,
    );
  });
});

/** A connection whose server answers `server/discover` with `answer` (thrown when an Error). */
function discovering(answer: unknown) {
  const envelopes: unknown[] = [];
  const versions: unknown[] = [];
  const conn: RpcConnection = {
    closed: new Promise(() => {}),
    async request(method) {
      assert.equal(method, 'server/discover');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    notify: async () => {},
    setEnvelope: (meta) => envelopes.push(meta),
    close: async () => {},
  };
  const channel = {
    setProtocolVersion: (v: string | undefined) => versions.push(v),
  } as unknown as Channel;
  return { conn, channel, envelopes, versions };
}

describe('negotiating the era with server/discover', () => {
  const opts = { timeoutMs: 1000, clientVersion: '9.9.9' };

  it('a server listing 2026-07-28 is spoken to in it: identity from the result, envelope kept', async () => {
    const d = discovering({
      resultType: 'complete',
      supportedVersions: ['2026-07-28'],
      capabilities: { tools: { listChanged: true }, prompts: {} },
      instructions: 'Be nice.',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'srv', version: '2' } },
    });
    const id = await discover(d.conn, d.channel, opts);
    assert.equal(id?.era, 'modern');
    assert.equal(id?.protocolVersion, '2026-07-28');
    assert.equal(id?.name, 'srv');
    assert.equal(id?.instructions, 'Be nice.');
    assert.equal(id?.listChanged, true);
    assert.deepEqual(d.versions, ['2026-07-28']);
    assert.equal(d.envelopes.length, 1);
    assert.deepEqual((d.envelopes[0] as Record<string, unknown>)['io.modelcontextprotocol/clientInfo'], {
      name: 'portcullis',
      version: '9.9.9',
    });
  });

  it('an error, an HTTP refusal or a result without 2026-07-28 means a 2025 server: all undone', async () => {
    for (const answer of [
      new UpstreamError('upstream-rpc-error', 'Method not found'),
      new UpstreamError('upstream-http-error', 'HTTP 400'),
      { supportedVersions: ['2025-11-25'], capabilities: {} },
      { capabilities: {} },
    ]) {
      const d = discovering(answer);
      assert.equal(await discover(d.conn, d.channel, opts), undefined);
      assert.deepEqual(d.versions, ['2026-07-28', undefined]);
      assert.equal(d.envelopes.at(-1), undefined);
    }
  });

  it('a server that went away is not taken for a 2025 one: the failure is thrown', async () => {
    const d = discovering(new UpstreamError('upstream-closed', 'gone'));
    await assert.rejects(discover(d.conn, d.channel, opts), /gone/);
  });
});
