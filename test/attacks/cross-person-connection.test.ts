import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import {
  formEndingWith,
  KEYED_SERVER,
  keyLabel,
  pasteKey,
  signedInOnConnections,
} from '../helpers/connections.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import type { TestBrowser } from '../helpers/oauth-browser.js';
import { call, connectClient, NODE, textOf, upstreamsConfig } from '../helpers/upstream-servers.js';

const ALICE_KEY = `alice-${'c3'.repeat(12)}`;
const SHARED_KEY = `shared-${'d4'.repeat(12)}`;

async function gatewayWith(upstream: Record<string, unknown>): Promise<TestGateway> {
  const t = await startTestGateway({
    env: { CRM_SHARED_KEY: SHARED_KEY },
    config: upstreamsConfig([
      {
        name: 'crm',
        stdio: { command: NODE, args: [KEYED_SERVER], secretEnv: { KEYED_KEY: 'env:CRM_SHARED_KEY' } },
        pinning: 'trust-on-first-use',
        tools: { '*': { class: 'read' } },
        ...upstream,
      },
    ]),
  });
  const db = openOAuthTables(t);
  await addUser(db, 'alice', 'alice password 1', 'acme');
  await addUser(db, 'bob', 'bob password 22', 'acme');
  await db.close();
  return t;
}

/**
 * Bob tries to act with Alice's own upstream credential (issue 13): through tool arguments, a
 * fresh session, another key of his, a key whose tenant is hers, her connection id on the
 * page, a copy of her vault row. None of it works; Alice's own calls beside it still do.
 */
describe('one person cannot use another person’s connection', () => {
  let t: TestGateway;
  let alice: Client;
  let bobKey: string;
  let aliceBrowser: TestBrowser;
  let bobBrowser: TestBrowser;

  before(async () => {
    t = await gatewayWith({ auth: { mode: 'person-secret', env: 'KEYED_KEY', label: 'your CRM key' } });
    alice = await connectClient(
      t.url,
      (await t.key({ owner: 'alice', tenant: 'acme', scopes: ['crm:read'] })).key,
    );
    bobKey = (await t.key({ owner: 'bob', tenant: 'acme', scopes: ['crm:read'] })).key;
    const origin = new URL(t.url).origin;
    aliceBrowser = await signedInOnConnections(origin, { name: 'alice', password: 'alice password 1' });
    bobBrowser = await signedInOnConnections(origin, { name: 'bob', password: 'bob password 22' });
    await pasteKey(aliceBrowser, 'crm', ALICE_KEY);
  });
  after(async () => {
    await alice?.close();
    await t?.close();
  });

  const bobCalls = async (key: string, args: Record<string, unknown> = {}) => {
    const res = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'crm__whoami', arguments: args } },
      { key },
    );
    return readRpc(res);
  };

  it('alice’s call goes out with her key (the legitimate use)', async () => {
    assert.ok(textOf(await call(alice, 'crm__whoami')).startsWith(keyLabel(ALICE_KEY)));
  });

  it('bob, not connected, is told to connect: never alice’s key, never the shared one', async () => {
    const bob = await connectClient(t.url, bobKey);
    try {
      const r = textOf(await call(bob, 'crm__whoami'));
      assert.match(r, /not connected it yet/);
      assert.ok(!r.includes(keyLabel(ALICE_KEY)) && !r.includes(keyLabel(SHARED_KEY)));
    } finally {
      await bob.close();
    }
  });

  it('no argument names another person: unknown fields are refused before anything runs', async () => {
    for (const args of [{ subject: 'alice' }, { tenant: 'acme', user: 'alice' }, { connection: 'alice' }]) {
      const r = await bobCalls(bobKey, args);
      const text = JSON.stringify(r);
      assert.ok(!text.includes(keyLabel(ALICE_KEY)), text);
      assert.match(text, /unknown field/);
    }
  });

  it('another key of bob’s, even one whose tenant is alice’s, finds no connection', async () => {
    const second = (await t.key({ owner: 'bob', tenant: 'acme', scopes: ['crm:read'] })).key;
    const r = JSON.stringify(await bobCalls(second));
    assert.match(r, /not connected it yet/);
    assert.ok(!r.includes(keyLabel(ALICE_KEY)));
  });

  it('bob cannot disconnect alice’s connection by its id, and it keeps working', async () => {
    const page = await aliceBrowser.navigate('/account/connections');
    const { action } = formEndingWith(page.body, '/disconnect');
    const bobPage = await bobBrowser.navigate('/account/connections');
    const { csrf } = formEndingWith(bobPage.body, '/secret');
    const res = await bobBrowser.request(action, { form: { csrf } });
    assert.equal(res.status, 404);
    assert.ok(textOf(await call(alice, 'crm__whoami')).startsWith(keyLabel(ALICE_KEY)));
  });

  it('a copy of alice’s vault row under bob’s name opens for nobody; alice is unaffected', async () => {
    const db = new Database(path.join(t.dataDir, 'portcullis.db'));
    try {
      db.prepare(
        `INSERT INTO connections (id, tenant, subject, upstream, mode, state, upstream_subject, scopes, created_at, last_used_at, expires_at, broken_reason, sealed)
         SELECT 'conn_copied', tenant, 'bob', upstream, mode, state, upstream_subject, scopes, created_at, NULL, expires_at, NULL, sealed
           FROM connections WHERE subject = 'alice'`,
      ).run();
      // The same row under bob with alice's very id: the id is bound too, and so is the subject.
      db.prepare(
        "UPDATE connections SET id = (SELECT id FROM connections WHERE subject = 'alice') || '-x' WHERE id = 'conn_copied'",
      ).run();
    } finally {
      db.close();
    }
    const r = JSON.stringify(await bobCalls(bobKey));
    assert.ok(!r.includes(keyLabel(ALICE_KEY)), r);
    assert.match(r, /cannot be used/);
    const page = await bobBrowser.navigate('/account/connections');
    assert.match(page.body, /Broken: The stored credential cannot be opened/);
    assert.ok(textOf(await call(alice, 'crm__whoami')).startsWith(keyLabel(ALICE_KEY)));
  });
});

describe('no connection never means the shared credential, unless the operator says so', () => {
  it('with fallback: shared, a person without a connection gets the shared key; with it absent, never', async () => {
    for (const fallback of [undefined, 'shared'] as const) {
      const t = await gatewayWith({
        auth: {
          mode: 'person-secret',
          env: 'KEYED_KEY',
          label: 'your CRM key',
          ...(fallback ? { fallback } : {}),
        },
      });
      try {
        const bob = await connectClient(
          t.url,
          (await t.key({ owner: 'bob', tenant: 'acme', scopes: ['crm:read'] })).key,
        );
        const r = textOf(await call(bob, 'crm__whoami'));
        await bob.close();
        if (fallback) assert.ok(r.startsWith(keyLabel(SHARED_KEY)), r);
        else {
          assert.ok(!r.includes(keyLabel(SHARED_KEY)), r);
          assert.match(r, /not connected it yet/);
        }
      } finally {
        await t.close();
      }
    }
  });
});
