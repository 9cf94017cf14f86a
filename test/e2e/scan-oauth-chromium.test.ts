import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { BIN, runCli } from '../helpers/cli.js';
import { chromiumMissing, openTestPage } from '../helpers/chromium.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { writeTestTls } from '../helpers/oauth-tls.js';

/**
 * `portcullis scan --oauth` as a person runs it: the scanner (a real process) registers itself
 * at the gateway's authorization server, prints the URL, and waits on 127.0.0.1; the person signs
 * in and consents in Chromium; the browser lands on the scanner's loopback listener; the scan
 * goes on with the token. The gateway serves https, as in production (`__Host-` cookies).
 */
describe('portcullis scan --oauth with a browser login in Chromium', { skip: chromiumMissing }, () => {
  let t: TestGateway;
  let cert: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    const dataDir = tempDir();
    const tls = writeTestTls(dataDir);
    cert = tls.cert;
    t = await startTestGateway({
      dataDir,
      config: `server:\n  tls:\n    cert: ${tls.cert}\n    key: ${tls.key}\n`,
    });
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'correct horse battery');
    await db.close();
    ({ browser, page } = await openTestPage());
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('signs in through the browser and scans with the token it got', async () => {
    const child = spawn(process.execPath, [BIN, 'scan', '--json', '--oauth', t.url], {
      // The scanner trusts the test certificate the way an operator's machine trusts its CA.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_EXTRA_CA_CERTS: cert },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const link = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /open this URL in your browser to sign in: (\S+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`the scanner exited first: ${stderr}`)));
    });
    const authorize = new URL(link);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorize.searchParams.get('resource'), t.url);
    assert.match(authorize.searchParams.get('redirect_uri')!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);

    await page.goto(link);
    await page.getByLabel('Account name').fill('alice');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/);
    assert.match(await page.locator('body').innerText(), /Signed in/);

    assert.equal(await exited, 0, stderr);
    const report = JSON.parse(stdout);
    const target = report.targets[0];
    assert.equal(target.listed, true);
    assert.ok(
      target.inventory.some((i: any) => i.name === 'memory_search'),
      JSON.stringify(target.inventory),
    );
    assert.deepEqual(
      report.findings.filter((f: any) => ['critical', 'high'].includes(f.severity)),
      [],
    );
  });

  it('a certificate the machine does not trust is a finding and a failed scan (exit 2)', async () => {
    const r = await runCli(['scan', '--quiet', '--json', t.url]);
    assert.equal(r.code, 2);
    const checks = JSON.parse(r.stdout).findings.map((f: any) => f.check);
    assert.deepEqual(checks.sort(), ['scan/target-failed', 'transport/tls-invalid']);
  });
});
