import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium; .ci/run installs it. Never a browser downloaded by a test tool. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * The skip reason for browser tests on a machine without Chromium. Never skipped in CI, where
 * .ci/run installs it: a missing browser there must fail, not pass quietly.
 */
export const chromiumMissing: string | false =
  !fs.existsSync(CHROMIUM) && !process.env.CI && `no Chromium at ${CHROMIUM}`;

/**
 * Headless Chromium with one page. The gateway under test serves a throwaway self-signed
 * certificate, so this test browser accepts it; every page's CSP complaints are collected so a
 * test can assert there were none.
 */
export async function openTestPage(): Promise<{ browser: Browser; page: Page; cspViolations: string[] }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--ignore-certificate-errors',
    ],
  });
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1100, height: 800 },
  });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return { browser, page, cspViolations };
}
