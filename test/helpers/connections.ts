import { createHash } from 'node:crypto';
import path from 'node:path';
import { formOf, TestBrowser } from './oauth-browser.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The stdio server that reports its key (test/fixtures/keyed-server.ts, compiled). */
export const KEYED_SERVER = path.join(ROOT, 'dist/test/fixtures/keyed-server.js');

/** What keyed-server's whoami reports for a key. */
export const keyLabel = (key: string) => `key:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;

/** A person signed in on /account/connections, with a cookie jar (no JavaScript, like the page). */
export async function signedInOnConnections(
  origin: string,
  person: { name: string; password: string },
): Promise<TestBrowser> {
  const browser = new TestBrowser(origin);
  const page = await browser.navigate('/account/connections');
  const { csrf, action } = formOf(page.body);
  const after = await browser.navigate(action, {
    form: { csrf, name: person.name, password: person.password },
  });
  if (!after.body.includes('Your accounts on other services'))
    throw new Error(`sign-in failed: ${after.body.slice(0, 400)}`);
  return browser;
}

/** The CSRF token and the action of the form on the page whose action ends with `suffix`. */
export function formEndingWith(body: string, suffix: string): { csrf: string; action: string } {
  const forms = [
    ...body.matchAll(/<form method="post" action="([^"]+)"[\s\S]*?name="csrf" value="([^"]+)"/g),
  ];
  const found = forms.find((m) => m[1]!.endsWith(suffix));
  if (!found) throw new Error(`no form ending with ${suffix}`);
  return { action: found[1]!, csrf: found[2]! };
}

/** Pastes a key for an upstream on the connections page; returns the final page. */
export async function pasteKey(browser: TestBrowser, upstream: string, key: string) {
  const page = await browser.navigate('/account/connections');
  const { csrf, action } = formEndingWith(page.body, `/${upstream}/secret`);
  return browser.navigate(action, { form: { csrf, secret: key } });
}
