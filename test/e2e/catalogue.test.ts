import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CatalogueDocument } from '../../src/catalogue/index.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';

/** /catalogue and /catalogue.json at each visibility: signed-in (the default), public, off. */
describe('the catalogue of what the gateway serves', () => {
  const gateways: TestGateway[] = [];
  after(async () => {
    for (const t of gateways) await t.close();
  });
  const start = async (config: string) => {
    const t = await startTestGateway({ config });
    gateways.push(t);
    return t;
  };

  describe('signed-in (the default)', () => {
    let t: TestGateway;
    before(async () => {
      t = await start('securityTxt:\n  contact: ["mailto:security@example.org"]\n');
      const db = openOAuthTables(t);
      await addUser(db, 'alice', 'alice long password');
      await db.close();
    });

    it('asks a stranger to sign in, and shows a signed-in person every tool with its controls', async () => {
      const origin = t.gw.url.origin;
      assert.equal((await fetch(`${origin}/catalogue.json`)).status, 401);
      const b = new TestBrowser(origin);
      const login = await b.navigate('/catalogue');
      assert.match(login.body, /to see what this gateway serves/);
      const { csrf, action } = formOf(login.body);
      const page = await b.navigate(action, {
        form: { csrf, name: 'alice', password: 'alice long password' },
      });
      assert.equal(page.res.status, 200);
      assert.match(page.res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.match(page.body, /memory_delete/);
      assert.match(page.body, /href="http:\/\/127\.0\.0\.1:\d+\/account"/, 'how to revoke access');
      assert.match(page.body, /security@example\.org/);
      const doc = (await (await b.request('/catalogue.json')).json()) as CatalogueDocument;
      const del = doc.items.find((i) => i.name === 'memory_delete')!;
      assert.deepEqual(
        {
          kind: del.kind,
          server: del.server,
          scope: del.scope,
          class: del.class,
          confirmation: del.confirmation,
        },
        {
          kind: 'tool',
          server: 'built-in',
          scope: 'memory:delete',
          class: 'destructive',
          confirmation: 'always',
        },
      );
      const get = doc.items.find((i) => i.name === 'memory_get')!;
      assert.equal(get.class, 'read');
      assert.deepEqual(get.labels, ['private-data']);
      assert.deepEqual(doc.securityContact, ['mailto:security@example.org']);
    });
  });

  it('public: anyone reads it, and the operator’s reclassification shows', async () => {
    const t = await start(
      'catalogue:\n  visibility: public\npolicy:\n  tools:\n    memory_get:\n      confirm: true\n',
    );
    const res = await fetch(`${t.gw.url.origin}/catalogue.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as CatalogueDocument;
    assert.equal(doc.items.find((i) => i.name === 'memory_get')?.confirmation, 'always');
    assert.equal((await fetch(`${t.gw.url.origin}/catalogue`)).status, 200);
  });

  it('off: there is nothing there', async () => {
    const t = await start('catalogue:\n  visibility: off\n');
    assert.equal((await fetch(`${t.gw.url.origin}/catalogue`)).status, 404);
    assert.equal((await fetch(`${t.gw.url.origin}/catalogue.json`)).status, 404);
  });

  it('refuses a visibility it does not know, naming the path', async () => {
    await assert.rejects(start('catalogue:\n  visibility: everyone\n'), /catalogue\.visibility/);
  });
});
