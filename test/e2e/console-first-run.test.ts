import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, openTestPage } from '../helpers/chromium.js';
import { startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';
import { approvalLink } from '../helpers/policy-approval.js';
import { callTool, connectV2, textOf } from '../helpers/policy-clients.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts/console');
const PASSWORD = 'a long first-run password';

/**
 * The first run as a newcomer lives it, in Chromium: `portcullis start` in an empty directory
 * (the real CLI, a child process), the setup link from its banner, a password, an MCP client's
 * memory_delete, the approval page, the call running; then the console: the call found in the
 * audit search by person and time, on the timeline, and its record. Every page is screenshotted
 * into test-artifacts/console/.
 */
describe('the first run, end to end, in Chromium', { skip: chromiumMissing }, () => {
  let dataDir: string;
  let child: ChildProcess;
  let banner: string;
  let browser: Browser;
  let page: Page;
  let client: Client;
  let cspViolations: string[] = [];
  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  before(async () => {
    dataDir = path.join(tempDir('portcullis-first-run-'), 'data');
    ({ child, banner } = await startCli(['--data-dir', dataDir, '--port', '0']));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    ({ browser, page, cspViolations } = await openTestPage());
  });
  after(async () => {
    await browser?.close();
    await client?.close();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('sets the admin password from the setup link, approves a memory_delete, and finds it in the console', async () => {
    const mcpUrl = /MCP endpoint: (\S+)/.exec(banner)![1]!;
    const key = /(pcs_[a-z0-9]{16}_[A-Za-z0-9_-]{43})/.exec(banner)![1]!;
    const setup = /(http:\/\/\S+\/setup\/psl_[A-Za-z0-9_-]{43})\n/.exec(banner)![1]!;
    const origin = new URL(mcpUrl).origin;
    const startedAt = new Date(Date.now() - 60_000).toISOString();

    await page.goto(setup);
    await page.getByLabel('New password').waitFor();
    assert.match(await page.locator('main').innerText(), /Choose the password for admin/);
    await shot('01-setup-link');
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('The same password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/admin', 'the admin lands in the console');
    await shot('02-overview-empty');

    // The link worked once: opening it again is refused.
    const again = await page.request.get(setup);
    assert.equal(again.status(), 404);

    // An MCP client with the first-run key (owned by admin) saves a note and asks to delete it.
    ({ client } = await connectV2(mcpUrl, key));
    const saved = await callTool(client, 'memory_save', {
      title: 'Dentist appointment',
      content: 'Tuesday 10:30 with Dr. Imrie\nBring the insurance card.',
    });
    const id = saved.structuredContent.id as string;
    const first = await callTool(client, 'memory_delete', { id });
    const link = approvalLink(textOf(first));
    assert.equal(new URL(link.url).origin, origin);

    // The admin is signed in already, so the approval page opens at once and says what goes.
    await page.goto(link.url);
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    const review = await page.locator('main').innerText();
    assert.match(review, /Deletes your note Dentist appointment, saved \d{4}-\d{2}-\d{2}/);
    assert.match(review, /Tuesday 10:30 with Dr\. Imrie/);
    assert.ok(review.includes(id), 'the exact arguments are still shown');
    await shot('03-approval-page');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('The app can now run this exact call once').waitFor();
    await shot('04-approved');
    const ran = await callTool(client, 'memory_delete', { id });
    assert.deepEqual(ran.structuredContent, { deleted: true });

    // The console: the overview counts the calls.
    await page.goto(`${origin}/admin`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await shot('05-overview');

    // Audit search by person and time: the call is there, with its approval.
    await page.goto(`${origin}/admin/search`);
    await page.getByLabel('Person').fill('admin');
    await page.getByLabel('Since').fill(startedAt);
    await page.getByLabel('Tool').fill('memory_delete');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('table.grid').waitFor();
    const rows = await page.locator('table.grid tbody tr').allInnerTexts();
    assert.ok(
      rows.some((r) => /tool-call/.test(r) && /memory_delete/.test(r) && /confirmation-accepted/.test(r)),
      `the approved call is listed:\n${rows.join('\n')}`,
    );
    assert.ok(
      rows.some((r) => /^\d+\s+\S+ \S+\s+confirmation\s/.test(r)),
      'and the approval',
    );
    const timeline = await page.locator('svg.timeline').getAttribute('aria-label');
    assert.match(timeline ?? '', /[1-9]\d* calls/, 'the call is on the timeline');
    assert.ok((await page.locator('svg.timeline rect.calls').count()) > 0);
    assert.match(await page.locator('.notice.ok').first().innerText(), /Chain verified up to seq \d+/);
    await shot('06-audit-search');

    // The record of the call that ran.
    const runRow = page
      .locator('table.grid tbody tr', { hasText: 'tool-call' })
      .filter({ hasText: 'confirmation-accepted' })
      .first();
    await runRow.locator('a').first().click();
    await page.getByRole('heading', { name: /Record \d+: tool-call memory_delete/ }).waitFor();
    const record = await page.locator('main').innerText();
    assert.match(record, /Person\s+admin/);
    assert.match(record, /Latency\s+[\d.]+ ms/);
    assert.match(record, /Keyed hash\s+[0-9a-f]{64}/);
    assert.match(record, /Sequence\s+\d+ of \d+/);
    await shot('07-record');

    // The other pages, each once.
    for (const [tab, heading, name] of [
      ['/admin/approvals', 'Approvals', '08-approvals'],
      ['/admin/quarantine', 'Quarantine', '09-quarantine'],
      ['/admin/pins', 'Pinned definitions', '10-pins'],
      ['/admin/people', 'People, keys and clients', '11-people'],
      ['/admin/upstreams', 'Upstream servers', '12-upstreams'],
    ] as const) {
      await page.goto(`${origin}${tab}`);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await shot(name);
    }
    const people = await page.request.get(`${origin}/admin/people`);
    assert.match(await people.text(), /first-run admin key/);
    assert.deepEqual(cspViolations, [], 'no page breaks its own CSP');
  });
});
