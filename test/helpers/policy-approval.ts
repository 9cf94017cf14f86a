import { formOf, type TestBrowser } from './oauth-browser.js';

/** The approval page URL and pending-call id in a tool result's text. */
export function approvalLink(text: string): { url: string; id: string } {
  const m = /(https?:\/\/\S+\/approvals\/(apr_[A-Za-z0-9_-]{22}))/.exec(text);
  if (!m) throw new Error(`no approval link in: ${text}`);
  return { url: m[1]!, id: m[2]! };
}

/**
 * A person with a browser (no JavaScript, like the page itself): opens the approval link, signs
 * in if asked, and presses Approve or Deny. Returns the final page.
 */
export async function decideOnPage(
  browser: TestBrowser,
  url: string,
  person: { name: string; password: string },
  decision: 'approve' | 'deny',
): Promise<{ status: number; body: string }> {
  let page = await browser.navigate(url);
  if (page.body.includes(`action="/approvals/`) && page.body.includes('/login"')) {
    const { csrf, action } = formOf(page.body);
    page = await browser.navigate(action, { form: { csrf, name: person.name, password: person.password } });
  }
  if (page.res.status !== 200) return { status: page.res.status, body: page.body };
  const { csrf, action } = formOf(page.body);
  const res = await browser.request(action, { form: { csrf, decision } });
  return { status: res.status, body: await res.text() };
}
