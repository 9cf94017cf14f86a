import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callerContext, eventually, startManager, type ManagerHarness } from '../helpers/upstream-manager.js';
import { HOSTILE_SURFACE_SERVER, NODE } from '../helpers/upstream-servers.js';

/**
 * Attack: a server whose prompt was approved changes it afterwards (a poisoned description) and
 * announces the change. The changed prompt must leave the surface at once and stay out until a
 * person approves it; the other, unchanged prompt keeps working.
 */
describe('attack: a prompt changed after approval (rug pull)', () => {
  let h: ManagerHarness;

  before(async () => {
    h = await startManager([
      {
        name: 'evil',
        stdio: { command: NODE, args: [HOSTILE_SURFACE_SERVER, '--prompt-rug-pull-after', '2'] },
        pinning: 'trust-on-first-use',
      },
    ]);
  });
  after(async () => h?.close());

  it('both prompts are served after trust on first use', async () => {
    const names = h.catalogue
      .surface('evil')!
      .prompts.map((p) => p.listed.name)
      .sort();
    assert.deepEqual(names, ['evil__greet', 'evil__summarise']);
  });

  it('once the description changes, the prompt is blocked, alerted and flagged; the other still works', async () => {
    const summarise = h.catalogue.prompt('evil__summarise')!.op;
    for (let i = 0; i < 2; i++) await summarise.execute({ text: 'hello' }, callerContext());
    await eventually(
      async () => (h.catalogue.prompt('evil__summarise') ? undefined : true),
      'the changed prompt to be withdrawn',
    );
    const pin = h.manager.pins().find((p) => p.key === 'prompt:summarise')!;
    assert.deepEqual([pin.state, pin.served, pin.scan.verdict], ['changed', false, 'malicious']);
    assert.ok(
      h.lines.some(
        (l) => l.includes('"alert":"upstream-definition-changed"') && l.includes('prompt:summarise'),
      ),
    );
    assert.ok(
      h.lines.some(
        (l) => l.includes('"alert":"upstream-definition-flagged"') && l.includes('prompt:summarise'),
      ),
    );
    assert.ok(h.events.some((e) => e.event.kind === 'list-changed' && e.event.list === 'prompts'));
    const greet = await h.catalogue.prompt('evil__greet')!.op.execute({ who: 'Ada' }, callerContext());
    assert.match((greet.content[0] as { text: string }).text, /greet: Ada/);
    // Trust on first use never approves a change, and the completion of a blocked prompt is gone too.
    assert.equal(
      h.catalogue.surface('evil')!.completer({ type: 'ref/prompt', name: 'evil__summarise' }),
      undefined,
    );
  });

  it('a bulk approval skips the malicious change; approving it by name serves it again', async () => {
    await h.approve('evil');
    assert.equal(h.manager.pins().find((p) => p.key === 'prompt:summarise')!.state, 'changed');
    await h.approve('evil', 'prompt:summarise');
    await eventually(
      async () => (h.catalogue.prompt('evil__summarise') ? true : undefined),
      'the approved prompt',
    );
  });
});
