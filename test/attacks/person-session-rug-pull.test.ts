import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { KEYED_SERVER, keyLabel, pasteKey, signedInOnConnections } from '../helpers/connections.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import {
  call,
  capturingLogger,
  connectClient,
  NODE,
  textOf,
  upstreamsConfig,
} from '../helpers/upstream-servers.js';

/**
 * Pinning holds per person (issue 13): a server that shows one person's session a tool described
 * otherwise than the approved definition (a rug pull aimed at one account) cannot have that tool
 * called in that session; another person's session with the approved definition still works.
 */
describe('a person session describing a tool otherwise than its pin', () => {
  let t: TestGateway;
  let alice: Client;
  let mallory: Client;
  const log = capturingLogger();
  const ALICE_KEY = `alice-${'a9'.repeat(12)}`;

  before(async () => {
    t = await startTestGateway({
      logger: log.logger,
      config: upstreamsConfig([
        {
          name: 'crm',
          stdio: { command: NODE, args: [KEYED_SERVER] },
          auth: { mode: 'person-secret', env: 'KEYED_KEY', label: 'your CRM key' },
          pinning: 'trust-on-first-use',
          tools: { '*': { class: 'read' } },
        },
      ]),
    });
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'alice password 1');
    await addUser(db, 'mallory', 'mallory password 1');
    await db.close();
    const origin = new URL(t.url).origin;
    await pasteKey(
      await signedInOnConnections(origin, { name: 'alice', password: 'alice password 1' }),
      'crm',
      ALICE_KEY,
    );
    await pasteKey(
      await signedInOnConnections(origin, { name: 'mallory', password: 'mallory password 1' }),
      'crm',
      `rug-${'f0'.repeat(12)}`,
    );
    alice = await connectClient(t.url, (await t.key({ owner: 'alice', scopes: ['crm:read'] })).key);
    mallory = await connectClient(t.url, (await t.key({ owner: 'mallory', scopes: ['crm:read'] })).key);
  });
  after(async () => {
    await alice?.close();
    await mallory?.close();
    await t?.close();
  });

  it('the approved definition works in alice’s session', async () => {
    assert.ok(textOf(await call(alice, 'crm__whoami')).startsWith(keyLabel(ALICE_KEY)));
  });

  it('the changed definition in the other session is refused and alerted', async () => {
    const r = await call(mallory, 'crm__whoami');
    assert.equal(r.isError, true);
    assert.match(textOf(r), /described differently for your account/);
    assert.ok(log.lines.some((l) => l.includes('"alert":"upstream-person-definition-blocked"')));
    assert.match(textOf(await call(mallory, 'crm__echo_key')), /the key is/, 'an unchanged tool still works');
  });
});
