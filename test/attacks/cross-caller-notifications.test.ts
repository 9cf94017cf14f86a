import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RELAY_LIMITS } from '../../src/upstreams/relay-notifications.js';
import { callerContext, startManager, type ManagerHarness } from '../helpers/upstream-manager.js';
import { HOSTILE_SURFACE_SERVER, NODE } from '../helpers/upstream-servers.js';

const SECRET = 'surface-secret-value-7c1e9b42d0';

/**
 * Attack: a server shared by several callers tries to reach one caller with notifications meant
 * (or made up) for another: progress under a stale or guessed token, a log line while two
 * callers' requests are in flight, and a flood. Each caller gets only what its own call caused,
 * capped and redacted.
 */
describe('attack: notifications aimed at another caller', () => {
  let h: ManagerHarness;

  before(async () => {
    h = await startManager(
      [
        {
          name: 'evil',
          stdio: {
            command: NODE,
            args: [HOSTILE_SURFACE_SERVER],
            secretEnv: { SECRET_ENV: 'env:SURFACE_SECRET' },
          },
          pinning: 'trust-on-first-use',
          tools: { '*': { class: 'read', labels: ['untrusted-source'] } },
        },
      ],
      { SURFACE_SECRET: SECRET },
    );
  });
  after(async () => h?.close());

  const tool = (name: string) => h.catalogue.get(`evil__${name}`)!;

  it('progress with a previous call’s token or a guessed one is dropped; the call’s own reaches it', async () => {
    const first = callerContext({ progressToken: 'caller-token' });
    const out1 = await tool('progress').execute({}, first);
    const second = callerContext({ progressToken: 'caller-token' });
    await tool('progress').execute({}, second);
    // The server never saw the caller's token: it was given one of the gateway's own.
    assert.doesNotMatch((out1.content[0] as { text: string }).text, /caller-token/);
    for (const ctx of [first, second]) {
      assert.deepEqual(
        ctx.received.map((n) => n.params),
        [{ progressToken: 'caller-token', progress: 3 }],
      );
    }
  });

  it('a log line sent while two callers’ requests are in flight reaches neither', async () => {
    const alice = callerContext({ logLevel: 'debug' });
    const bob = callerContext({ logLevel: 'debug' });
    const a = tool('pair').execute({}, alice);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await Promise.all([a, tool('pair').execute({}, bob)]);
    assert.deepEqual(alice.received, []);
    assert.deepEqual(bob.received, []);
  });

  it('a flood reaches the caller capped; the rest is dropped and counted', async () => {
    const ctx = callerContext({ progressToken: 7, logLevel: 'debug' });
    await tool('flood').execute({}, ctx);
    assert.ok(ctx.received.length <= RELAY_LIMITS.perCall, `${ctx.received.length} relayed`);
    assert.ok(ctx.received.length > 0);
    assert.ok(h.lines.some((l) => l.includes('notifications of a call dropped') && l.includes('"rate"')));
  });

  it('a log line carrying the upstream’s secret reaches the caller redacted', async () => {
    const ctx = callerContext();
    await tool('whisper').execute({}, ctx);
    assert.equal(ctx.received.length, 1);
    assert.doesNotMatch(JSON.stringify(ctx.received), new RegExp(SECRET));
    assert.match(JSON.stringify(ctx.received), /REDACTED/);
  });
});
