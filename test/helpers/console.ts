import { formOf, TestBrowser } from './oauth-browser.js';
import type { TestGateway } from './gateway.js';

/** The first-run admin's password, set through the setup link in console tests. */
export const ADMIN_PASSWORD = 'console test admin password';

/**
 * The first run's admin, as a person with a browser: opens the setup link the gateway made,
 * sets a password and is signed in (the setup page starts the session). Returns the browser.
 */
export async function adminBrowser(t: TestGateway): Promise<TestBrowser> {
  const setupUrl = t.gw.firstRun?.setupUrl;
  if (!setupUrl) throw new Error('not a first run: no setup link');
  const browser = new TestBrowser(t.gw.url.origin);
  const form = await browser.navigate(setupUrl);
  const { csrf, action } = formOf(form.body);
  const done = await browser.navigate(action, {
    form: { csrf, password: ADMIN_PASSWORD, confirm: ADMIN_PASSWORD },
  });
  if (new URL(done.url).pathname !== '/admin')
    throw new Error(`setup did not sign in: ${done.res.status} ${done.body.slice(0, 300)}`);
  return browser;
}

/** A person signed in on the console's sign-in form (any role). */
export async function signedIn(t: TestGateway, name: string, password: string): Promise<TestBrowser> {
  const browser = new TestBrowser(t.gw.url.origin);
  const login = await browser.navigate('/admin');
  const { csrf, action } = formOf(login.body);
  await browser.navigate(action, { form: { csrf, name, password } });
  return browser;
}

/** The CSRF token of the form that posts to `action` on a page. */
export function tokenFor(body: string, action: string): string {
  const at = body.indexOf(`action="${action}"`);
  if (at < 0) throw new Error(`no form posting to ${action}`);
  const m = /name="csrf" value="([^"]+)"/.exec(body.slice(at));
  if (!m) throw new Error(`no CSRF token in the form posting to ${action}`);
  return m[1]!;
}
