import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, openTestPage } from '../helpers/chromium.js';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { postMcp, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import {
  addUser,
  authorizationRequest,
  openOAuthTables,
  registerClient,
  tokenRequest,
} from '../helpers/oauth-gateway.js';
import { trustTestCertificate, writeTestTls } from '../helpers/oauth-tls.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts/oauth');
const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

/**
 * A person's whole journey in a real browser, over https so the pages' `__Host-` cookies, CSP
 * and form-action rules are the production ones: sign in, consent, see the app under Connected
 * apps, disconnect it — and the app's next call is refused. Screenshots go to test-artifacts/.
 */
describe('a person in Chromium: login, consent, connected apps, revoke', { skip: chromiumMissing }, () => {
  let t: TestGateway;
  let db: OAuthDatabase;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let cspViolations: string[] = [];

  before(async () => {
    trustTestCertificate();
    const dataDir = tempDir();
    const tls = writeTestTls(dataDir);
    t = await startTestGateway({
      dataDir,
      config: `server:\n  tls:\n    cert: ${tls.cert}\n    key: ${tls.key}\n`,
    });
    origin = t.gw.url.origin;
    assert.match(origin, /^https:/);
    db = openOAuthTables(t);
    await addUser(db, 'alice', 'correct horse battery');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const opened = await openTestPage();
    browser = opened.browser;
    page = opened.page;
    cspViolations = opened.cspViolations;
  });
  after(async () => {
    // The last page, whatever happened: the first thing to look at when this test fails.
    await page?.screenshot({ path: path.join(ARTIFACTS, 'last-page.png'), fullPage: true }).catch(() => {});
    await browser?.close();
    await db?.close();
    await t?.close();
  });

  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  it('signs in, consents, sees the app, disconnects it, and the app is refused at once', async () => {
    const client = await registerClient(origin, { client_name: 'Research Assistant' });
    const { url, verifier } = authorizationRequest(origin, client, {
      scope: 'memory:read memory:write',
      resource: t.url,
    });
    let callback: URL | undefined;
    await page.route('http://127.0.0.1:1/**', async (route) => {
      callback = new URL(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'back in the app' });
    });

    await page.goto(url);
    await page.getByLabel('Account name').waitFor();
    assert.match(await page.locator('h1').innerText(), /Sign in/);
    await shot('1-login');
    await page.getByLabel('Account name').fill('alice');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('button', { name: 'Allow' }).waitFor();
    const consentText = await page.locator('main').innerText();
    assert.match(consentText, /Research Assistant/);
    assert.match(consentText, /Read and search your saved notes/);
    assert.match(consentText, /Save new notes for you/);
    await shot('2-consent');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL('http://127.0.0.1:1/**');
    assert.ok(callback?.searchParams.get('code'), 'the browser arrived at the app with a code');

    const cookies = await page.context().cookies(origin);
    const ours = cookies.filter((c) => c.name.startsWith('__Host-'));
    assert.ok(
      ours.some((c) => c.name === '__Host-pcs_account'),
      'the account session is a __Host- cookie',
    );
    for (const c of ours) {
      assert.equal(c.secure, true);
      assert.equal(c.httpOnly, true);
      assert.equal(c.sameSite, 'Lax');
      assert.equal(c.path, '/');
    }

    const token = await tokenRequest(origin, {
      grant_type: 'authorization_code',
      code: callback!.searchParams.get('code')!,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      code_verifier: verifier,
      resource: t.url,
    });
    assert.equal(token.status, 200);
    assert.equal((await postMcp(t.url, list, { key: token.body.access_token })).status, 200);

    await page.goto(`${origin}/account`);
    await page.getByRole('heading', { name: 'Connected apps' }).waitFor();
    assert.match(await page.locator('table.apps').innerText(), /Research Assistant/);
    await shot('3-connected-apps');
    await page.getByRole('button', { name: 'Disconnect Research Assistant' }).click();
    await page.getByText('Disconnected.').waitFor();
    assert.match(await page.locator('main').innerText(), /No apps are connected/);
    await shot('4-disconnected');

    assert.equal((await postMcp(t.url, list, { key: token.body.access_token })).status, 401);
    assert.deepEqual(cspViolations, [], 'the pages break no rule of their own CSP');
  });
});
