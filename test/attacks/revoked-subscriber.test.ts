// Attack: a caller subscribes to an upstream resource on a 2025 session, then its key is revoked.
// Its open stream must hear nothing more (no resources/updated, no list changes): notifications
// flow between requests, so each is checked against the credential the session last used.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

const SERVER = path.resolve(import.meta.dirname, '../fixtures/file-resource-server.js');
const OWN = 'file:///srv/docs/public/readme.txt';
const URI = `portcullis://files/${OWN}`;
const SCOPES = ['files:resources', 'files:read'];

async function session(t: TestGateway, key: string) {
  const client = new Client({ name: 'subscriber', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  const updates: string[] = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
  await client.connect(
    new StreamableHTTPClientTransport(new URL(t.url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return { client, updates };
}

describe('attack: a revoked caller’s subscription outliving its key', () => {
  let t: TestGateway;
  let alice: Awaited<ReturnType<typeof session>>;
  let mallory: Awaited<ReturnType<typeof session>>;
  let malloryKeyId: string;

  before(async () => {
    t = await startTestGateway({
      config: upstreamsConfig([
        {
          name: 'files',
          stdio: { command: NODE, args: [SERVER] },
          pinning: 'trust-on-first-use',
          tools: { touch: { class: 'read' } },
        },
      ]),
    });
    alice = await session(t, (await t.key({ owner: 'alice', scopes: SCOPES })).key);
    const m = await t.key({ owner: 'mallory', scopes: SCOPES });
    malloryKeyId = m.id;
    mallory = await session(t, m.key);
    await eventually(async () => {
      const { tools } = await alice.client.listTools();
      return tools.some((x) => x.name === 'files__touch') ? true : undefined;
    }, 'the files upstream');
  });
  after(async () => {
    for (const s of [alice, mallory]) await s?.client.close().catch(() => undefined);
    await t?.close();
  });

  it('after revocation, the session hears no more updates; the subscriber still holding a key does', async () => {
    await alice.client.subscribeResource({ uri: URI });
    await mallory.client.subscribeResource({ uri: URI });
    assert.equal(await t.gw.storage.apiKeys.revoke(malloryKeyId, new Date()), true);
    await new Promise((r) => setTimeout(r, 1100)); // past the notifier's one-per-second folding
    const out = await alice.client.callTool({ name: 'files__touch', arguments: { uri: OWN } });
    assert.equal((out.content as { text: string }[])[0]!.text, 'update sent');
    await eventually(async () => (alice.updates.includes(URI) ? true : undefined), 'alice’s update');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(mallory.updates, [], 'the revoked key’s session heard the update');
  });
});
