import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminBrowser, tokenFor } from '../helpers/console.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { TestBrowser } from '../helpers/oauth-browser.js';

/**
 * Attack: cross-site request forgery on the console. A page the admin visits elsewhere posts a
 * hidden form to /admin/keys/<id>/revoke (or to create a key for the attacker's person). The
 * browser attaches the admin's session cookie; the form cannot know the CSRF token, which is
 * bound to the admin and to the exact action. Refused, nothing changes; the admin's own click works.
 */
describe('attack: forged console actions', () => {
  let t: TestGateway;
  let admin: TestBrowser;
  let keyId: string;
  before(async () => {
    t = await startTestGateway();
    admin = await adminBrowser(t);
    keyId = (await t.key({ owner: 'admin' })).id;
  });
  after(() => t.close());

  it('a forged revoke is refused and the key lives; the admin’s own revoke works', async () => {
    // Same-site forgery (the Origin check lets it through): cookies ride, no token.
    const forged = await admin.request(`/admin/keys/${keyId}/revoke`, { form: {} });
    assert.equal(forged.status, 403);
    // A guessed or stale token, and the token of the page's other form, fail the same way.
    const page = await admin.navigate('/admin/people');
    for (const csrf of ['x'.repeat(43), tokenFor(page.body, '/admin/keys')]) {
      assert.equal((await admin.request(`/admin/keys/${keyId}/revoke`, { form: { csrf } })).status, 403);
    }
    // Cross-origin: refused before any handler runs.
    const crossSite = await admin.request(`/admin/keys/${keyId}/revoke`, {
      form: {},
      origin: 'https://evil.example',
    });
    assert.equal(crossSite.status, 403);
    assert.equal((await t.gw.storage.apiKeys.findById(keyId))?.revokedAt, null, 'the key still works');

    const own = await admin.navigate(`/admin/keys/${keyId}/revoke`, {
      form: { csrf: tokenFor(page.body, `/admin/keys/${keyId}/revoke`) },
    });
    assert.equal(own.res.status, 200);
    assert.ok((await t.gw.storage.apiKeys.findById(keyId))?.revokedAt, 'revoked by the admin');
  });
});
