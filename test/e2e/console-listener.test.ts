import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, adminBrowser, tokenFor } from '../helpers/console.js';
import { chromiumMissing, openTestPage } from '../helpers/chromium.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser, formOf } from '../helpers/oauth-browser.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { STYLESHEET_PATH } from '../../src/ui/index.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts/console');
/** A first run whose console has its own listener on a free port. */
const separate = () => startTestGateway({ env: { PORTCULLIS_CONSOLE__LISTEN__PORT: '0' } });

function assertConsoleHeaders(res: Response) {
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /default-src 'none'|script-src 'none'|default-src 'self'/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
}

describe('the console on its own listener (console.listen)', () => {
  let t: TestGateway;
  let consoleOrigin: string;

  before(async () => {
    t = await separate();
    consoleOrigin = t.gw.consoleUrl.origin;
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'alice long password');
    await db.close();
  });
  after(() => t.close());

  it('has its own port, and the setup link sends the admin there, signed in', async () => {
    assert.notEqual(consoleOrigin, t.gw.url.origin);
    assert.equal(t.gw.consoleUrl.pathname, '/admin');
    const main = await adminBrowser(t); // the setup page is on the main listener
    // Cookies belong to the host, not the port: the session started on the main listener is
    // the console's too (a console on another host signs in on its own form, below).
    const browser = new TestBrowser(consoleOrigin);
    for (const [k, v] of main.cookies) browser.cookies.set(k, v);
    const home = await browser.navigate('/admin');
    assert.equal(home.res.status, 200);
    assert.match(home.body, /<h1>Overview<\/h1>|Overview/);
    assertConsoleHeaders(home.res);
  });

  it('signs in on its own form, keeps CSRF on every form and 403 for a member', async () => {
    const admin = new TestBrowser(consoleOrigin);
    const login = await admin.navigate('/admin');
    assert.equal(login.res.status, 200);
    assertConsoleHeaders(login.res);
    const { csrf, action } = formOf(login.body);
    assert.equal(action, '/admin/login');
    const signed = await admin.navigate(action, { form: { csrf, name: 'admin', password: ADMIN_PASSWORD } });
    assert.equal(new URL(signed.url).origin, consoleOrigin);
    assert.match(signed.body, /Overview/);

    const people = await admin.navigate('/admin/people');
    const refused = await admin.request('/admin/people', { form: { name: 'eve', role: 'member' } });
    assert.equal(refused.status, 403);
    const made = await admin.navigate('/admin/people', {
      form: { csrf: tokenFor(people.body, '/admin/people'), name: 'eve', role: 'member' },
    });
    assert.equal(made.res.status, 200);
    assert.match(made.body, /eve/);

    const member = new TestBrowser(consoleOrigin);
    const form = formOf((await member.navigate('/admin')).body);
    await member.navigate(form.action, {
      form: { csrf: form.csrf, name: 'alice', password: 'alice long password' },
    });
    assert.equal((await member.request('/admin/people')).status, 403);
  });

  it('serves the /admin/audit API for an admin key there', async () => {
    const res = await fetch(new URL('/admin/audit?limit=1', consoleOrigin), {
      headers: { authorization: `Bearer ${t.gw.firstRun!.adminKey}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /ndjson/);
    await res.text();
  });

  it('serves nothing but the console, and only under its own Host and Origin', async () => {
    for (const p of ['/mcp', '/account', '/healthz', '/oauth/auth', '/catalogue'])
      assert.equal((await fetch(new URL(p, consoleOrigin))).status, 404, p);
    // fetch() will not send another Host; node:http will (DNS rebinding sends the attacker's name).
    const wrongHost = await new Promise<number>((resolve, reject) =>
      http
        .get(new URL('/admin', consoleOrigin), { headers: { host: t.gw.url.host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject),
    );
    assert.equal(wrongHost, 403);
    const css = await fetch(new URL(STYLESHEET_PATH, consoleOrigin));
    assert.equal(css.status, 200, 'the console’s stylesheet is served beside it');
    await css.text();
    const admin = new TestBrowser(consoleOrigin);
    const crossOrigin = await admin.request('/admin/login', {
      form: { name: 'admin', password: ADMIN_PASSWORD },
      origin: t.gw.url.origin,
    });
    assert.equal(crossOrigin.status, 403, 'the main listener’s origin is another origin to the console');
  });
});

describe('the console on the main listener (the default)', () => {
  it('is at /admin of the public URL, and the setup link lands there', async () => {
    const t = await startTestGateway();
    try {
      assert.equal(t.gw.consoleUrl.href, new URL('/admin', t.gw.url).href);
      const admin = await adminBrowser(t);
      const home = await admin.navigate('/admin');
      assert.equal(home.res.status, 200);
      assertConsoleHeaders(home.res);
    } finally {
      await t.close();
    }
  });
});

describe('console.listen on a port already taken', () => {
  it('refuses to start with an error naming the setting', async () => {
    const t = await startTestGateway();
    try {
      await assert.rejects(
        startTestGateway({ env: { PORTCULLIS_CONSOLE__LISTEN__PORT: t.gw.url.port } }),
        (err: Error) => /console\.listen/.test(err.message) && /EADDRINUSE/.test(err.message),
      );
    } finally {
      await t.close();
    }
  });
});

describe('the console on its own listener, in Chromium', { skip: chromiumMissing }, () => {
  it('the setup link on the main listener ends on the console’s overview; signing in again works there', async () => {
    const t = await separate();
    const { browser, page, cspViolations } = await openTestPage();
    try {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.goto(t.gw.firstRun!.setupUrl);
      await page.getByLabel('New password').fill(ADMIN_PASSWORD);
      await page.getByLabel('The same password again').fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Set password and sign in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      assert.equal(new URL(page.url()).origin, t.gw.consoleUrl.origin);
      await page.screenshot({ path: path.join(ARTIFACTS, 'separate-listener-overview.png'), fullPage: true });

      // A fresh browser (no cookie): the console's own sign-in form, on the console's origin.
      const context = await browser.newContext();
      const fresh = await context.newPage();
      await fresh.goto(t.gw.consoleUrl.href);
      await fresh.getByLabel('Account name').fill('admin');
      await fresh.getByLabel('Password').fill(ADMIN_PASSWORD);
      await fresh.getByRole('button', { name: 'Sign in' }).click();
      await fresh.getByRole('heading', { name: 'Overview' }).waitFor();
      assert.equal(new URL(fresh.url()).origin, t.gw.consoleUrl.origin);
      await fresh.goto(new URL('/admin/people', t.gw.consoleUrl).href);
      await fresh
        .getByRole('heading', { name: /People/ })
        .first()
        .waitFor();
      await fresh.screenshot({ path: path.join(ARTIFACTS, 'separate-listener-people.png'), fullPage: true });

      // On the main listener the console is not there at all.
      const main = await fresh.goto(new URL('/admin', t.gw.url).href);
      assert.equal(main?.status(), 404);
      assert.deepEqual(cspViolations, []);
    } finally {
      await browser.close();
      await t.close();
    }
  });
});
