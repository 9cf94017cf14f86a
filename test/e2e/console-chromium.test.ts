import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, openTestPage } from '../helpers/chromium.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import {
  connectClient,
  eventually,
  MALICIOUS_SERVER,
  NODE,
  upstreamsConfig,
} from '../helpers/upstream-servers.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts/console');

/**
 * The console with something to show, in Chromium: a rug-pulled upstream definition on the pins
 * page (side by side, findings marked) rejected there; an injected result held in quarantine
 * (findings marked) and released with a reason; denials on the overview; upstream state.
 */
describe('the console at work, in Chromium', { skip: chromiumMissing }, () => {
  let t: TestGateway;
  let browser: Browser;
  let page: Page;
  let client: Client;
  let cspViolations: string[] = [];
  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  before(async () => {
    const tools = { '*': { class: 'write', labels: ['untrusted-source'] } };
    t = await startTestGateway({
      config: upstreamsConfig(
        [
          {
            name: 'rug',
            stdio: { command: NODE, args: [MALICIOUS_SERVER, '--rug-pull-after', '1'] },
            pinning: 'trust-on-first-use',
            tools,
          },
        ],
        { safety: { injectionAction: 'quarantine' } },
      ),
    });
    const db = openOAuthTables(t);
    await addUser(db, 'root', 'root long password', 'root', 'admin');
    await db.close();
    client = await connectClient(
      t.url,
      (await t.key({ owner: 'alice', scopes: ['rug:write', 'memory:read'] })).key,
    );
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    ({ browser, page, cspViolations } = await openTestPage());
  });
  after(async () => {
    await browser?.close();
    await client?.close();
    await t?.close();
  });

  it('reviews a rug pull, a held result and the upstreams', async () => {
    // A held result, a rug pull and a few denials.
    await client.callTool({ name: 'rug__search', arguments: { query: 'a' } });
    await client.callTool({ name: 'rug__dirty', arguments: {} });
    await eventually(async () => {
      const { tools } = await client.listTools();
      return tools.some((tool) => tool.name === 'rug__search') ? undefined : true;
    }, 'the changed tool to be withdrawn');
    for (let i = 0; i < 3; i++)
      await client.callTool({ name: 'memory_delete', arguments: { id: 'note_x' } }).catch(() => undefined);

    // And a destructive call of alice's, waiting for her (not for the admin) to approve it.
    const writer = await connectClient(
      t.url,
      (await t.key({ owner: 'alice', scopes: ['memory:write', 'memory:delete'] })).key,
    );
    try {
      const saved = await writer.callTool({
        name: 'memory_save',
        arguments: { title: 'Board minutes', content: 'Draft, do not share.' },
      });
      const id = (saved.structuredContent as { id: string }).id;
      await writer.callTool({ name: 'memory_delete', arguments: { id } });
    } finally {
      await writer.close();
    }

    const origin = t.gw.url.origin;
    await page.goto(`${origin}/admin`);
    await page.getByLabel('Account name').fill('root');
    await page.getByLabel('Password').fill('root long password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.match(await page.locator('.tiles').innerText(), /1\s+quarantined outputs/);
    assert.match(await page.locator('.tiles').innerText(), /1\s+definitions to review/);
    await shot('13-overview-busy');

    await page.goto(`${origin}/admin/pins`);
    const changed = page.locator('section.tile', { hasText: 'search' });
    await changed.waitFor();
    assert.match(await changed.innerText(), /changed/);
    assert.ok((await changed.locator('.diff del').count()) > 0, 'the approved text is struck out');
    assert.ok((await changed.locator('.diff ins mark').count()) > 0, 'the poisoned text is marked');
    await shot('14-pins-diff');
    await changed.getByRole('button', { name: 'Reject' }).click();
    await page.getByText('Rejected rug search').waitFor();

    await page.goto(`${origin}/admin/quarantine`);
    const held = page.locator('section.tile', { hasText: 'rug__dirty' });
    await held.waitFor();
    assert.ok((await held.locator('mark').count()) > 0, 'the injected instructions are marked');
    assert.match((await held.locator('mark').allInnerTexts()).join(' '), /Ignore all previous instructions/i);
    await shot('15-quarantine-held');
    await held.getByLabel('Reason (recorded)').fill('reviewed: test fixture output');
    await held.getByRole('button', { name: 'Release' }).click();
    await page.getByText(/Released q_/).waitFor();

    await page.goto(`${origin}/admin/approvals`);
    const waiting = page.locator('table.grid tbody tr', { hasText: 'alice' }).first();
    await waiting.waitFor();
    assert.match(await waiting.innerText(), /Deletes the note Board minutes of \d{4}-\d{2}-\d{2}/);
    assert.match(await waiting.innerText(), /for alice to decide/);
    assert.equal(
      await waiting.getByRole('link', { name: 'Review' }).count(),
      0,
      'the admin cannot decide it',
    );
    await shot('18-approvals-pending');

    await page.goto(`${origin}/admin/upstreams`);
    assert.match(await page.locator('table.grid').innerText(), /rug\s+up\s+stdio/);
    await shot('16-upstreams-live');
    // Restart from the console: recorded, the process replaced, the upstream up again.
    await page.getByRole('button', { name: 'Restart' }).click();
    await page.getByText(/Restarted rug: now up/).waitFor();
    assert.match(await page.locator('table.grid').innerText(), /rug\s+up\s+stdio/);
    assert.ok(
      (await t.audit.log.query({ limit: 1000 })).some((r) => r.reasons.includes('upstream-restarted')),
    );

    await page.goto(`${origin}/admin/search?since=1h&decision=deny`);
    await page.locator('table.grid').waitFor();
    await shot('17-audit-denials');
    const reasons = (await t.audit.log.query({ limit: 1000 })).flatMap((r) => r.reasons);
    assert.ok(reasons.includes('pin-rejected') && reasons.includes('quarantine-released'));
    assert.deepEqual(cspViolations, []);
  });
});
