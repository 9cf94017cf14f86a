import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { pasteKey, signedInOnConnections } from '../helpers/connections.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import {
  call,
  capturingLogger,
  connectClient,
  eventually,
  textOf,
  upstreamsConfig,
} from '../helpers/upstream-servers.js';

/**
 * person-secret on an HTTP upstream (issue 13): the upstream is another Portcullis, and each
 * person pastes their own API key of it. Each person's calls arrive there as that person (their
 * notes are theirs); the front gateway's own key is used only to list; a key the upstream
 * revokes breaks the connection with words on how to reconnect.
 */
describe("people's own keys for an HTTP upstream", () => {
  let back: TestGateway;
  let front: TestGateway;
  let alice: Client;
  let bob: Client;
  let aliceBackKey: { id: string; key: string };
  const log = capturingLogger();

  before(async () => {
    back = await startTestGateway();
    const listKey = (await back.key({ owner: 'front-lister', scopes: ['memory:read', 'memory:write'] })).key;
    aliceBackKey = await back.key({ owner: 'alice-back', scopes: ['memory:read', 'memory:write'] });
    const bobBackKey = (await back.key({ owner: 'bob-back', scopes: ['memory:read', 'memory:write'] })).key;
    front = await startTestGateway({
      logger: log.logger,
      env: { BACK_LIST_KEY: listKey },
      config: upstreamsConfig([
        {
          name: 'back',
          http: {
            url: back.url,
            allowHttp: true,
            allowAddresses: ['127.0.0.1/32'],
            auth: { bearer: { secret: 'env:BACK_LIST_KEY' } },
          },
          auth: {
            mode: 'person-secret',
            header: 'Authorization',
            scheme: 'Bearer',
            label: 'your back-office key',
          },
          pinning: 'trust-on-first-use',
          tools: {
            memory_search: { class: 'read', labels: [] },
            memory_save: { class: 'write', labels: [] },
            '*': { class: 'write', labels: [] },
          },
        },
      ]),
    });
    const db = openOAuthTables(front);
    await addUser(db, 'alice', 'alice password 1');
    await addUser(db, 'bob', 'bob password 22');
    await db.close();
    const origin = new URL(front.url).origin;
    await pasteKey(
      await signedInOnConnections(origin, { name: 'alice', password: 'alice password 1' }),
      'back',
      aliceBackKey.key,
    );
    await pasteKey(
      await signedInOnConnections(origin, { name: 'bob', password: 'bob password 22' }),
      'back',
      bobBackKey,
    );
    alice = await connectClient(
      front.url,
      (await front.key({ owner: 'alice', scopes: ['back:read', 'back:write'] })).key,
    );
    bob = await connectClient(
      front.url,
      (await front.key({ owner: 'bob', scopes: ['back:read', 'back:write'] })).key,
    );
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
    await front?.close();
    await back?.close();
  });

  it('each person acts upstream as themselves: alice’s note is hers, bob cannot find it', async () => {
    const saved = await call(alice, 'back__memory_save', {
      content: 'alice secret plan zebra',
      title: 'plan',
    });
    assert.notEqual(saved.isError, true, textOf(saved));
    assert.match(textOf(await call(alice, 'back__memory_search', { query: 'zebra' })), /plan/);
    const bobs = textOf(await call(bob, 'back__memory_search', { query: 'zebra' }));
    assert.ok(!bobs.includes('plan'), bobs);
    const records = await back.audit.log.query({ limit: 100 });
    const principals = new Set(records.filter((r) => r.event === 'tool-call').map((r) => r.principal));
    assert.ok(principals.has('alice-back') && principals.has('bob-back'), [...principals].join());
    assert.ok(
      !records.some((r) => r.event === 'tool-call' && r.principal === 'front-lister'),
      'the listing key is never used for a call',
    );
  });

  it('a key the upstream revokes breaks the connection; the person is told to reconnect', async () => {
    await back.gw.storage.apiKeys.revoke(aliceBackKey.id, new Date());
    const first = await call(alice, 'back__memory_search', { query: 'zebra' });
    assert.equal(first.isError, true);
    let text = textOf(first);
    for (let i = 0; i < 20 && !/reconnect/.test(text); i++) {
      await new Promise((r) => setTimeout(r, 50));
      text = textOf(await call(alice, 'back__memory_search', { query: 'zebra' }));
    }
    assert.match(text, /broken.*reconnect their back account/s);
    assert.match(textOf(await call(bob, 'back__memory_search', { query: 'zebra' })), /No matching notes/);
    assert.ok(!log.lines.join('\n').includes(aliceBackKey.key), 'the key is in no log line');
  });
});

describe('an HTTP upstream that only people can list', () => {
  let back: TestGateway;
  const dataDir = tempDir();
  after(async () => {
    await back?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is listed through the first person who connects, and at the next start through a connection', async () => {
    back = await startTestGateway();
    const aliceBackKey = (await back.key({ owner: 'alice-back', scopes: ['memory:read', 'memory:write'] }))
      .key;
    let front = await startTestGateway({
      dataDir,
      config: upstreamsConfig([
        {
          name: 'back',
          http: { url: back.url, allowHttp: true, allowAddresses: ['127.0.0.1/32'] },
          auth: { mode: 'person-secret', header: 'Authorization', scheme: 'Bearer', label: 'your key' },
          pinning: 'trust-on-first-use',
          tools: { '*': { class: 'read', labels: [] } },
        },
      ]),
    });
    const db = openOAuthTables(front);
    await addUser(db, 'alice', 'alice password 1');
    await db.close();
    const names = async (t: TestGateway) => {
      const c = await connectClient(t.url, (await t.key({ owner: 'alice', scopes: ['back:read'] })).key);
      try {
        return (await c.listTools()).tools.map((x) => x.name);
      } finally {
        await c.close();
      }
    };
    assert.ok(
      !(await names(front)).some((n) => n.startsWith('back__')),
      'nothing to list before anyone connects',
    );
    const browser = await signedInOnConnections(new URL(front.url).origin, {
      name: 'alice',
      password: 'alice password 1',
    });
    await pasteKey(browser, 'back', aliceBackKey);
    const t1 = front;
    await eventually(
      async () => ((await names(t1)).includes('back__memory_search') ? true : undefined),
      'listed',
    );
    await front.gw.close();

    front = await startTestGateway({ dataDir });
    const t2 = front;
    await eventually(
      async () => ((await names(t2)).includes('back__memory_search') ? true : undefined),
      'listed at start',
    );
    const c = await connectClient(
      front.url,
      (await front.key({ owner: 'alice', scopes: ['back:read'] })).key,
    );
    assert.match(textOf(await call(c, 'back__memory_search', { query: 'anything' })), /No matching notes/);
    await c.close();
    await front.gw.close();
  });
});
