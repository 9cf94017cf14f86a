import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { approvalLink, decideOnPage } from '../helpers/policy-approval.js';
import { ACCEPT } from '../helpers/policy-clients.js';

interface AnyClient {
  listTools(): Promise<{ tools: { name: string }[] }>;
  callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
}

type Result = { structuredContent?: any; content: { type: string; text: string }[]; isError?: boolean };

/**
 * memory_delete is destructive: the person (alice, signed in as herself) approves it on the
 * approval page. Clients that declare URL-mode elicitation are handed the link (their handler
 * plays the person opening it and approving); the others get it in the result and call again.
 */
async function exerciseMemoryTools(client: AnyClient, approve?: (text: string) => Promise<void>) {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), [
    'memory_delete',
    'memory_get',
    'memory_save',
    'memory_search',
    'web_fetch',
  ]);

  const saved = (await client.callTool({
    name: 'memory_save',
    arguments: {
      content: 'The quarterly review moved to Thursday at 10:00.',
      title: 'Review',
      tags: ['work'],
    },
  })) as Result;
  assert.equal(saved.isError, undefined);
  const id = saved.structuredContent.id as string;
  assert.match(id, /^note_/);

  const found = (await client.callTool({
    name: 'memory_search',
    arguments: { query: 'quarterly thursday' },
  })) as Result;
  assert.deepEqual(
    found.structuredContent.items.map((i: { id: string }) => i.id),
    [id],
  );

  const got = (await client.callTool({ name: 'memory_get', arguments: { id } })) as Result;
  assert.equal(got.structuredContent.content, 'The quarterly review moved to Thursday at 10:00.');
  assert.deepEqual(got.structuredContent.tags, ['work']);

  let deleted = (await client.callTool({ name: 'memory_delete', arguments: { id } })) as Result;
  if (approve) {
    assert.equal(deleted.isError, true);
    await approve(deleted.content[0]!.text);
    deleted = (await client.callTool({ name: 'memory_delete', arguments: { id } })) as Result;
  }
  assert.deepEqual(deleted.structuredContent, { deleted: true });

  const gone = (await client.callTool({ name: 'memory_get', arguments: { id } })) as Result;
  assert.equal(gone.isError, true);
  assert.match(gone.content[0]!.text, /No note with id/);
}

const ALICE = { name: 'alice', password: 'correct horse battery' };

describe('real MCP clients', () => {
  let t: TestGateway;
  let key: string;
  /** The person behind a client that shows URL elicitations: opens the page and approves. */
  const approveLink = async (url: string) => {
    const page = await decideOnPage(new TestBrowser(t.gw.url.origin), url, ALICE, 'approve');
    assert.equal(page.status, 200, page.body);
    return { action: 'accept' as const };
  };
  before(async () => {
    t = await startTestGateway();
    key = (await t.key()).key;
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'correct horse battery');
    await db.close();
  });
  after(() => t.close());

  it('an SDK v2 client negotiates 2026-07-28 and saves, finds, reads and deletes a note', async () => {
    const client = new ClientV2(
      { name: 'v2-test', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: { form: {}, url: {} } } },
    );
    client.setRequestHandler('elicitation/create', (r) =>
      r.params.mode === 'url' ? approveLink(r.params.url) : ACCEPT,
    );
    await client.connect(
      new TransportV2(new URL(t.url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }),
    );
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
      await exerciseMemoryTools(client);
    } finally {
      await client.close();
    }
  });

  it('an SDK 1.x client on 2025-11-25 does the same over the stateless 2025 transport', async () => {
    const client = new ClientV1({ name: 'v1-test', version: '1.0.0' });
    const transport = new TransportV1(new URL(t.url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    });
    await client.connect(transport);
    try {
      assert.equal(transport.protocolVersion, '2025-11-25');
      assert.equal(transport.sessionId, undefined);
      const browser = new TestBrowser(t.gw.url.origin);
      await exerciseMemoryTools(client, async (text) => {
        const page = await decideOnPage(browser, approvalLink(text).url, ALICE, 'approve');
        assert.equal(page.status, 200, page.body);
      });
    } finally {
      await client.close();
    }
  });

  it('an SDK 1.x client that declares elicitation gets a session bound to its credential', async () => {
    const client = new ClientV1(
      { name: 'v1-elicit', version: '1.0.0' },
      { capabilities: { elicitation: { form: {}, url: {} } } },
    );
    client.setRequestHandler(ElicitRequestSchema, (r) =>
      r.params.mode === 'url' ? approveLink(r.params.url) : ACCEPT,
    );
    const transport = new TransportV1(new URL(t.url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    });
    await client.connect(transport);
    try {
      assert.ok(transport.sessionId && transport.sessionId.length >= 43, 'a 256-bit session id');
      await exerciseMemoryTools(client);
    } finally {
      await client.close();
    }
  });

  it('a wrong argument comes back as an isError result that tells the model what to fix', async () => {
    const client = new ClientV2(
      { name: 'v2-test', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(
      new TransportV2(new URL(t.url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }),
    );
    try {
      const r = (await client.callTool({
        name: 'memory_save',
        arguments: { content: 42, colour: 'red' },
      })) as Result;
      assert.equal(r.isError, true);
      assert.match(r.content[0]!.text, /content: .*expected string/i);
      assert.match(r.content[0]!.text, /unknown field\(s\) colour; remove them/);
      assert.match(r.content[0]!.text, /call memory_save again/);
    } finally {
      await client.close();
    }
  });
});
