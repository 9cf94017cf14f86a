import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, openTestPage } from '../helpers/chromium.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { trustTestCertificate, writeTestTls } from '../helpers/oauth-tls.js';
import { approvalLink } from '../helpers/policy-approval.js';
import { callTool, connectV2, textOf } from '../helpers/policy-clients.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts/approvals');

/**
 * The out-of-band approval in a real browser, over https (production cookies, CSP): the client
 * gets a link, the person opens it, signs in, reads the call and approves; the client's retry
 * runs. Screenshots go to test-artifacts/approvals/.
 */
describe('a person approves a pending call in Chromium', { skip: chromiumMissing }, () => {
  let t: TestGateway;
  let browser: Browser;
  let page: Page;
  let client: Client;
  let cspViolations: string[] = [];

  before(async () => {
    trustTestCertificate();
    const dataDir = tempDir();
    const tls = writeTestTls(dataDir);
    t = await startTestGateway({
      dataDir,
      config: `server:\n  tls:\n    cert: ${tls.cert}\n    key: ${tls.key}\n`,
    });
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'correct horse battery');
    await db.close();
    ({ client } = await connectV2(t.url, (await t.key({ owner: 'alice' })).key));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const opened = await openTestPage();
    browser = opened.browser;
    page = opened.page;
    cspViolations = opened.cspViolations;
  });
  after(async () => {
    await page?.screenshot({ path: path.join(ARTIFACTS, 'last-page.png'), fullPage: true }).catch(() => {});
    await browser?.close();
    await client?.close();
    await t?.close();
  });

  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  it('signs in from the link, sees the exact call, approves, and the retry runs once', async () => {
    const saved = await callTool(client, 'memory_save', {
      content: 'Quarterly figures (draft).',
      title: 'Q3',
    });
    const id = saved.structuredContent.id as string;
    const first = await callTool(client, 'memory_delete', { id });
    const link = approvalLink(textOf(first));
    assert.match(link.url, /^https:/);

    await page.goto(link.url);
    await page.getByLabel('Account name').waitFor();
    assert.match(await page.locator('main').innerText(), /review a tool call/);
    await shot('1-sign-in');
    await page.getByLabel('Account name').fill('alice');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('button', { name: 'Approve' }).waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /memory_delete/);
    assert.match(text, /built into Portcullis/);
    assert.ok(text.includes(id), 'the exact arguments are shown');
    await shot('2-review');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('The app can now run this exact call once').waitFor();
    await shot('3-approved');

    const ran = await callTool(client, 'memory_delete', { id });
    assert.deepEqual(ran.structuredContent, { deleted: true });
    assert.equal((await callTool(client, 'memory_get', { id })).isError, true);

    // Back on the link: nothing left to approve.
    await page.goto(link.url);
    assert.match(await page.locator('h1').innerText(), /Nothing to approve/);
    assert.deepEqual(cspViolations, [], 'the pages break no rule of their own CSP');
  });

  it('the page refuses to be framed', async () => {
    const res = await page.request.get(`${t.gw.url.origin}/approvals/apr_${'a'.repeat(22)}`);
    assert.match(res.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(res.headers()['x-frame-options'], 'DENY');
  });
});
