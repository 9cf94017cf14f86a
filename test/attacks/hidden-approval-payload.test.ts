import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { approvalLink } from '../helpers/policy-approval.js';
import { ACCEPT, callTool, connectV2, DECLINE, textOf } from '../helpers/policy-clients.js';
import { formOf } from '../helpers/oauth-browser.js';
import type { OAuthDatabase } from '../../src/oauth/index.js';

/**
 * Hiding the payload from the person who approves: an injected model puts what it wants to walk
 * out into a string that looks like a credential (here a GitHub token format). If the approval
 * page showed the arguments through the secret redactor, the person would read
 * `[REDACTED:github-token]` and approve a call whose real arguments they never saw. The page shows
 * what will run, and so does an in-band prompt; only the gateway's own secret values stay hidden,
 * and an in-band prompt that would have to hide one is not used (the page is).
 */

const ALICE = { name: 'alice', password: 'correct horse battery' };
const PAYLOAD = `ghp_${'Q'.repeat(12)}exfiltrated${'7'.repeat(13)}`;

async function pageBody(t: TestGateway, url: string): Promise<string> {
  const browser = new TestBrowser(t.gw.url.origin);
  let page = await browser.navigate(url);
  if (page.body.includes('/login"')) {
    const { csrf, action } = formOf(page.body);
    page = await browser.navigate(action, { form: { csrf, ...ALICE } });
  }
  assert.equal(page.res.status, 200, page.body.slice(0, 300));
  return page.body;
}

describe('attack: a payload hidden from the approval page as a "secret"', () => {
  let t: TestGateway;
  let db: OAuthDatabase;
  let key: string;

  before(async () => {
    // memory_save is made destructive and opted in to in-band confirmation: a client that cannot
    // show forms gets the page, one that can is asked in-band unless that would hide something.
    t = await startTestGateway({
      config: 'policy:\n  tools:\n    memory_save: { class: destructive, approval: in-band }\n',
    });
    db = openOAuthTables(t);
    await addUser(db, ALICE.name, ALICE.password);
    key = (await t.key({ owner: 'alice' })).key;
  });
  after(async () => {
    await db?.close();
    await t?.close();
  });

  it('the approval page shows a token-shaped argument exactly as it will run', async () => {
    const { client } = await connectV2(t.url, key);
    try {
      const r = await callTool(client, 'memory_save', { content: `note ${PAYLOAD}` });
      const body = await pageBody(t, approvalLink(textOf(r)).url);
      assert.ok(body.includes(PAYLOAD), 'the person reads the real argument');
      assert.doesNotMatch(body, /REDACTED/);
    } finally {
      await client.close();
    }
  });

  it('an in-band prompt shows a token-shaped argument exactly as well', async () => {
    const { client, asked } = await connectV2(t.url, key, () => DECLINE);
    try {
      await callTool(client, 'memory_save', { content: `note ${PAYLOAD}` });
      assert.equal(asked.length, 1);
      assert.ok(asked[0]!.includes(PAYLOAD), asked[0]);
    } finally {
      await client.close();
    }
  });

  it('a clean call to the opted-in tool is still asked in-band', async () => {
    const { client, asked } = await connectV2(t.url, key, () => ACCEPT);
    try {
      const r = await callTool(client, 'memory_save', { content: 'a plain note' });
      assert.equal(asked.length, 1);
      assert.match(asked[0]!, /a plain note/);
      assert.equal(r.isError, undefined, textOf(r));
    } finally {
      await client.close();
    }
  });
});
