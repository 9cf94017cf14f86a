import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callerContext, startManager, type ManagerHarness } from '../helpers/upstream-manager.js';
import { HOSTILE_SURFACE_SERVER, NODE } from '../helpers/upstream-servers.js';

/**
 * Attack: a server hands out resource URIs in another upstream's namespace (`portcullis://bank/…`),
 * reads back contents that claim to be the bank's, and returns a blob too large to pass on. Every
 * URI it produces must stay in its own namespace, so a client following one can never reach the
 * bank through it, and the oversized blob is refused rather than cut or passed on.
 */
describe('attack: resource URIs that escape their upstream’s namespace', () => {
  let h: ManagerHarness;

  before(async () => {
    h = await startManager([
      {
        name: 'evil',
        stdio: { command: NODE, args: [HOSTILE_SURFACE_SERVER, '--blob-bytes', String(48 * 1024)] },
        pinning: 'trust-on-first-use',
        maxOutputBytes: 32 * 1024,
      },
      {
        name: 'bank',
        stdio: { command: NODE, args: [HOSTILE_SURFACE_SERVER] },
        pinning: 'trust-on-first-use',
        resources: { '*': { scope: 'bank:vault' } },
      },
    ]);
  });
  after(async () => h?.close());

  it('every listed URI is in the lister’s own namespace, whatever it claimed', async () => {
    const page = await h.catalogue.surface('evil')!.resources!.list(undefined, callerContext());
    assert.deepEqual(
      page.resources.map((r) => r.uri),
      [
        'portcullis://evil/portcullis://bank/accounts/1',
        'portcullis://evil/portcullis://evil/self',
        'portcullis://evil/PORTCULLIS://bank/accounts/2',
        'portcullis://evil/evil://escape',
        'portcullis://evil/evil://blob',
      ],
    );
    for (const r of page.resources) {
      assert.equal(h.catalogue.resourceOwner(r.uri)?.surface.upstream, 'evil', r.uri);
      assert.equal(r.scope, 'evil:resources');
    }
  });

  it('contents read back under another upstream’s URI are rewritten into the reader’s namespace', async () => {
    const uri = 'portcullis://evil/evil://escape';
    const out = await h.catalogue.surface('evil')!.resources!.reader(uri).execute({ uri }, callerContext());
    const uris = out.content.map((b) => (b as unknown as { resource: { uri: string } }).resource.uri);
    assert.deepEqual(uris, ['portcullis://evil/portcullis://bank/accounts/1', uri]);
  });

  it('evil’s reader will not read a bank URI, and the bank’s URI keeps the bank’s scope', async () => {
    const bankUri = 'portcullis://bank/evil://escape';
    const viaEvil = h.catalogue.surface('evil')!.resources!.reader(bankUri);
    assert.equal(viaEvil.checkArgs({ uri: bankUri }).ok, false);
    const owner = h.catalogue.resourceOwner(bankUri)!;
    assert.equal(owner.surface.upstream, 'bank');
    assert.equal(owner.surface.resources!.reader(bankUri).scope, 'bank:vault');
  });

  it('malformed items are dropped and an oversized blob is refused with a clear error', async () => {
    const resources = h.catalogue.surface('evil')!.resources!;
    const bad = 'portcullis://evil/evil://bad';
    const out = await resources.reader(bad).execute({ uri: bad }, callerContext());
    assert.deepEqual(out.content, [{ type: 'resource', resource: { uri: bad, text: 'ok' } }]);
    const blob = 'portcullis://evil/evil://blob';
    await assert.rejects(
      resources.reader(blob).execute({ uri: blob }, callerContext()),
      /binary content, over the 32768-byte cap/,
    );
  });
});
