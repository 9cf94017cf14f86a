// Attack: two people's 2025 sessions subscribe to the same upstream resource; one of them (or
// someone who never subscribed) sends resources/unsubscribe for it. The gateway holds one
// upstream subscription for everyone, so relaying that unsubscribe to the server switched off
// the other person's updates. Before the fix, bob's unsubscribe reached the server, the server
// stopped announcing changes, and alice's session never heard of the next one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  FILE_RESOURCE_SERVER as SERVER,
  FILE_SCOPES as SCOPES,
  OWN_FILE as OWN,
  OWN_FILE_URI as URI,
  resourceSubscriber as session,
} from '../helpers/resource-subscriber.js';
import { eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

describe('attack: one caller’s unsubscribe switching off another’s resource updates', () => {
  let t: TestGateway;
  let alice: Awaited<ReturnType<typeof session>>;
  let bob: Awaited<ReturnType<typeof session>>;
  let carol: Awaited<ReturnType<typeof session>>;

  /** The server announces a change of the file, if it still has a subscriber for it. */
  const touch = async () => {
    const out = await alice.client.callTool({ name: 'files__touch', arguments: { uri: OWN } });
    return (out.content as { text: string }[])[0]!.text;
  };

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
    bob = await session(t, (await t.key({ owner: 'bob', scopes: SCOPES })).key);
    carol = await session(t, (await t.key({ owner: 'carol', scopes: SCOPES })).key);
    await eventually(async () => {
      const { tools } = await alice.client.listTools();
      return tools.some((x) => x.name === 'files__touch') ? true : undefined;
    }, 'the files upstream');
  });
  after(async () => {
    for (const s of [alice, bob, carol]) await s?.client.close();
    await t?.close();
  });

  it('an unsubscribe from a session that never subscribed leaves the others’ subscription', async () => {
    await alice.client.subscribeResource({ uri: URI });
    await carol.client.unsubscribeResource({ uri: URI });
    assert.equal(await touch(), 'update sent');
    await eventually(async () => (alice.updates.includes(URI) ? true : undefined), 'alice’s update');
  });

  it('bob unsubscribing his own subscription stops his updates only', async () => {
    await bob.client.subscribeResource({ uri: URI });
    await bob.client.unsubscribeResource({ uri: URI });
    alice.updates.length = 0;
    assert.equal(await touch(), 'update sent');
    await eventually(async () => (alice.updates.includes(URI) ? true : undefined), 'alice’s update');
    assert.deepEqual(bob.updates, []);
    assert.deepEqual(carol.updates, []);
  });

  it('when the last subscriber leaves, the server is told and stops announcing', async () => {
    await alice.client.unsubscribeResource({ uri: URI });
    assert.equal(await touch(), 'nobody subscribed');
  });
});
