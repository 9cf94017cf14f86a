import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callerContext, eventually, startManager, type ManagerHarness } from '../helpers/upstream-manager.js';
import { HOSTILE_SURFACE_SERVER, NODE } from '../helpers/upstream-servers.js';

const text = (out: { content: readonly unknown[] }) => (out.content[0] as { text: string }).text;

/**
 * Attack: a server announces that its prompts changed 200 times in two seconds, to keep the gateway
 * re-listing (and re-pinning, and telling every client) without pause. Announcements that come
 * while a listing runs are one more listing, at most one a second, and listeners hear no flood.
 */
describe('attack: a flood of list_changed notifications', () => {
  let h: ManagerHarness;

  before(async () => {
    h = await startManager([
      {
        name: 'evil',
        stdio: { command: NODE, args: [HOSTILE_SURFACE_SERVER] },
        pinning: 'trust-on-first-use',
        tools: { '*': { class: 'read', labels: [] } },
      },
    ]);
  });
  after(async () => h?.close());

  it('200 announcements cost a handful of listings, and the prompts stay served', async () => {
    const tool = (name: string) => h.catalogue.get(`evil__${name}`)!;
    const before = Number(text(await tool('listings').execute({}, callerContext())));
    const started = Date.now();
    await tool('announce').execute({}, callerContext());
    // The 200 announcements take 2 s on a quiet machine and longer on a loaded one (each 10 ms
    // pause is a timer); the control allows one listing a second for as long as they keep coming.
    const floodSeconds = (Date.now() - started) / 1000;
    // Let the last listing (after its one-second pause) finish.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const after = await eventually(
      async () => Number(text(await tool('listings').execute({}, callerContext()))),
      'a count',
    );
    const allowed = Math.ceil(floodSeconds) + 2;
    assert.ok(after - before >= 1, 'the change was listed');
    assert.ok(
      after - before <= allowed,
      `${after - before} listings for 200 announcements in ${floodSeconds.toFixed(1)} s (at most ${allowed})`,
    );
    assert.ok(h.catalogue.prompt('evil__greet'));
  });
});
