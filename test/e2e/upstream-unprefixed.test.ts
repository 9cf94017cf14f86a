import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callerContext, startManager, type ManagerHarness } from '../helpers/upstream-manager.js';
import { HOSTILE_SURFACE_SERVER, NODE } from '../helpers/upstream-servers.js';

/**
 * `namespace: ''` serves one upstream's names and URIs unchanged (what the conformance suite
 * needs to call tools, prompts and resources by their own names through the gateway), while a
 * name that would enter another upstream's namespace is not served, and alerted, instead of
 * shadowing it or breaking the catalogue.
 */
describe('an upstream served with an empty namespace', () => {
  let h: ManagerHarness;

  before(async () => {
    h = await startManager([
      {
        name: 'conf',
        namespace: '',
        stdio: { command: NODE, args: [HOSTILE_SURFACE_SERVER, '--collide', 'bank__progress'] },
        pinning: 'trust-on-first-use',
      },
      {
        name: 'bank',
        // Declares resources without serving templates: that kind is simply empty.
        stdio: { command: NODE, args: [HOSTILE_SURFACE_SERVER, '--no-templates'] },
        pinning: 'trust-on-first-use',
      },
    ]);
  });
  after(async () => h?.close());

  it('its tools and prompts keep their own names; the colliding ones are not served and are alerted', () => {
    const tools = h.catalogue.entries().map((e) => `${e.tool.upstream} ${e.tool.name}`);
    assert.ok(tools.includes('conf progress'), tools.join('\n'));
    assert.ok(tools.includes('bank bank__progress'));
    assert.ok(!tools.includes('conf bank__progress'));
    assert.equal(h.catalogue.prompt('greet')?.op.upstream, 'conf');
    assert.equal(h.catalogue.prompt('bank__greet')?.op.upstream, 'bank');
    assert.equal(
      h.catalogue.surface('conf')!.prompts.some((p) => p.listed.name === 'bank__progress'),
      false,
    );
    assert.ok(
      h.lines.some((l) => l.includes('"alert":"upstream-name-collision"') && l.includes('bank__progress')),
    );
    const served = h.manager.pins().filter((p) => p.upstream === 'conf' && p.key.includes('bank__'));
    assert.deepEqual(served.map((p) => [p.key, p.state, p.served]).sort(), [
      ['bank__progress', 'approved', false],
      ['prompt:bank__progress', 'approved', false],
    ]);
  });

  it('its URIs are served unchanged, except those that claim the gateway’s namespace', async () => {
    const surface = h.catalogue.surface('conf')!;
    assert.equal(surface.namespace, '');
    assert.deepEqual(
      surface.resourceTemplates.map((t) => t.listed.uriTemplate),
      ['evil://items/{id}'],
    );
    const page = await surface.resources!.list(undefined, callerContext());
    assert.deepEqual(
      page.resources.map((r) => r.uri),
      [
        'portcullis://conf/portcullis://bank/accounts/1',
        'portcullis://conf/portcullis://evil/self',
        'portcullis://conf/PORTCULLIS://bank/accounts/2',
        'evil://escape',
        'evil://blob',
      ],
    );
    for (const r of page.resources)
      assert.equal(h.catalogue.resourceOwner(r.uri)?.surface.upstream, 'conf', r.uri);
    const owner = h.catalogue.resourceOwner('evil://escape')!;
    const out = await owner.surface
      .resources!.reader('evil://escape')
      .execute({ uri: 'evil://escape' }, callerContext());
    const uris = out.content.map((b) => (b as unknown as { resource: { uri: string } }).resource.uri);
    assert.deepEqual(uris, ['portcullis://conf/portcullis://bank/accounts/1', 'evil://escape']);
    assert.deepEqual(h.catalogue.surface('bank')!.resourceTemplates, []);
    assert.deepEqual(
      h.manager.health().map((u) => u.state),
      ['up', 'up'],
    );
    // The bank's own namespace still leads to the bank.
    assert.equal(h.catalogue.resourceOwner('portcullis://bank/evil://escape')?.surface.upstream, 'bank');
  });
});
