import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, openTestPage } from '../helpers/chromium.js';
import { KEYED_SERVER, keyLabel } from '../helpers/connections.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { trustTestCertificate, writeTestTls } from '../helpers/oauth-tls.js';
import { call, connectClient, NODE, textOf, upstreamsConfig } from '../helpers/upstream-servers.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts/connections');
const KEY = `alice-${'f6'.repeat(12)}`;

/**
 * The connections page in a real browser over https (production cookies, the page CSP, no
 * JavaScript): alice signs in, pastes her key, sees it connected (never shown again), and
 * disconnects. Screenshots go to test-artifacts/connections/.
 */
describe(
  'a person connects their own key on the connections page in Chromium',
  { skip: chromiumMissing },
  () => {
    let t: TestGateway;
    let browser: Browser;
    let page: Page;
    let cspViolations: string[] = [];

    before(async () => {
      trustTestCertificate();
      const dataDir = tempDir();
      const tls = writeTestTls(dataDir);
      t = await startTestGateway({
        dataDir,
        config: upstreamsConfig(
          [
            {
              name: 'crm',
              stdio: { command: NODE, args: [KEYED_SERVER] },
              auth: {
                mode: 'person-secret',
                env: 'KEYED_KEY',
                label: 'your CRM API key',
                testCall: { tool: 'whoami' },
              },
              pinning: 'trust-on-first-use',
              tools: { '*': { class: 'read' } },
            },
          ],
          { server: { tls: { cert: tls.cert, key: tls.key } } },
        ),
      });
      const db = openOAuthTables(t);
      await addUser(db, 'alice', 'correct horse battery');
      await db.close();
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      ({ browser, page, cspViolations } = await openTestPage());
    });
    after(async () => {
      await page?.screenshot({ path: path.join(ARTIFACTS, 'last-page.png'), fullPage: true }).catch(() => {});
      await browser?.close();
      await t?.close();
    });
    const shot = (name: string) =>
      page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

    it('signs in, pastes a key the test call accepts, uses it, and disconnects', async () => {
      const origin = new URL(t.url).origin;
      assert.match(origin, /^https:/);
      await page.goto(`${origin}/account/connections`);
      await page.getByLabel('Account name').fill('alice');
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('Not connected').waitFor();
      await shot('1-not-connected');

      // A key the test call refuses is not kept.
      await page.getByLabel('Paste your CRM API key').fill('bad-key-123');
      await page.getByRole('button', { name: 'Connect crm' }).click();
      await page.getByText('The key did not work').waitFor();
      await shot('2-refused');

      await page.getByLabel('Paste your CRM API key').fill(KEY);
      await page.getByRole('button', { name: 'Connect crm' }).click();
      await page.getByText('Connected. Your tool calls').waitFor();
      assert.ok(!(await page.content()).includes(KEY), 'never shown again');
      assert.equal(await page.locator('td[data-state="connected"]').count(), 1);
      await shot('3-connected');

      const client = await connectClient(t.url, (await t.key({ owner: 'alice', scopes: ['crm:read'] })).key);
      assert.ok(textOf(await call(client, 'crm__whoami')).startsWith(keyLabel(KEY)));

      await page.getByRole('button', { name: 'Disconnect crm' }).click();
      await page.getByText('Disconnected.').waitFor();
      await shot('4-disconnected');
      assert.match(textOf(await call(client, 'crm__whoami')), /not connected it yet/);
      await client.close();
      assert.deepEqual(cspViolations, []);
    });
  },
);
