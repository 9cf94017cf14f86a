import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminBrowser } from '../helpers/console.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/*
 * An operator puts the console on its own listener (an admin network, loopback behind a
 * tunnel) so that the internet-facing listener has no console to attack. The attack: reach the
 * console, its sign-in form (a password-guessing target), its actions or the /admin/audit API
 * through the main listener anyway, or learn where the console lives from a redirect or a link.
 */
describe('attack: the console through the main listener when it has its own', () => {
  let t: TestGateway;
  let cookie: string;

  before(async () => {
    t = await startTestGateway({ env: { PORTCULLIS_CONSOLE__LISTEN__PORT: '0' } });
    // A real admin session, so a page that checked the session would show itself.
    const admin = await adminBrowser(t);
    cookie = admin.cookieHeader();
  });
  after(() => t.close());

  const paths = [
    '/admin',
    '/admin/',
    '/admin/login',
    '/admin/search',
    '/admin/search/export?format=csv',
    '/admin/records/1',
    '/admin/people',
    '/admin/pins',
    '/admin/audit?limit=1',
    '/admin/%2e%2e/admin',
    '/ADMIN',
    '/admin/unknown',
  ];

  it('answers every /admin path with the same 404 as an unknown path, signed in or not, by any method', async () => {
    const unknown = await fetch(new URL('/no-such-page', t.gw.url));
    const expected = await unknown.text();
    for (const p of paths)
      for (const method of ['GET', 'POST', 'HEAD']) {
        for (const headers of [
          { cookie },
          { authorization: `Bearer ${t.gw.firstRun!.adminKey}` },
          {} as Record<string, string>,
        ]) {
          const res = await fetch(new URL(p, t.gw.url), {
            method,
            redirect: 'manual',
            headers: {
              ...headers,
              ...(method === 'POST'
                ? { 'content-type': 'application/x-www-form-urlencoded', origin: t.gw.url.origin }
                : {}),
            },
            ...(method === 'POST' ? { body: 'name=admin&password=guess' } : {}),
          });
          const body = await res.text();
          assert.equal(res.status, 404, `${method} ${p}`);
          assert.equal(res.headers.get('location'), null, `${method} ${p}: no redirect`);
          assert.equal(res.headers.get('set-cookie'), null, `${method} ${p}: no cookie`);
          if (method !== 'HEAD') assert.equal(body, expected, `${method} ${p}: the plain not-found answer`);
          assert.equal(body.includes(String(t.gw.consoleUrl.port)), false, 'the console port is not named');
        }
      }
  });

  it('records no console activity for those requests', async () => {
    const records = await t.audit.store.readFrom(1, 1000);
    assert.equal(
      records.some((r) => r.reasons.some((x) => /admin-read|admin-denied|console/.test(x))),
      false,
      'no audit read or console action through the main listener',
    );
  });
});
