import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import { approvalLink } from '../helpers/policy-approval.js';
import { callTool, connectV2, textOf } from '../helpers/policy-clients.js';
import { signedIn, tokenFor } from '../helpers/console.js';

/**
 * Attack: a member decides a confirmation that belongs to someone else — by posting to its
 * approval page with a CSRF token of their own, or through the console. Both are refused and the
 * call stays pending; the person it belongs to approves it, and the call runs.
 */
describe('attack: approving another person’s pending call', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'alice long password');
    await addUser(db, 'mallory', 'mallory long password');
    await db.close();
  });
  after(() => t.close());

  it('mallory cannot approve alice’s memory_delete; alice can', async () => {
    const { client } = await connectV2(t.url, (await t.key({ owner: 'alice' })).key);
    try {
      const saved = await callTool(client, 'memory_save', { content: 'alice’s note' });
      const id = saved.structuredContent.id as string;
      const link = approvalLink(textOf(await callTool(client, 'memory_delete', { id })));

      // Mallory signs in on alice's link: it reads like an unknown link.
      const mallory = new TestBrowser(t.gw.url.origin);
      const login = await mallory.navigate(link.url);
      const { csrf, action } = formOf(login.body);
      const seen = await mallory.navigate(action, {
        form: { csrf, name: 'mallory', password: 'mallory long password' },
      });
      assert.equal(seen.res.status, 404);
      // With a CSRF token of her own page (the sign-in form's) she posts a decision anyway.
      const forged = await mallory.request(link.url, { form: { csrf, decision: 'approve' } });
      assert.equal(forged.status, 404);
      // And the console is not hers to use (a member): 403, before any form is read.
      const consoleTry = await mallory.request('/admin/approvals');
      assert.equal(consoleTry.status, 403);
      assert.equal((await t.gw.storage.confirmations.getApproval(link.id))?.status, 'pending');
      assert.equal((await callTool(client, 'memory_delete', { id })).isError, true, 'still waiting');

      // Alice approves her own call; it runs.
      const alice = await signedIn(t, 'alice', 'alice long password');
      const page = await alice.navigate(link.url);
      const decided = await alice.request(link.url, {
        form: { csrf: tokenFor(page.body, `/approvals/${link.id}`), decision: 'approve' },
      });
      assert.equal(decided.status, 200);
      assert.deepEqual((await callTool(client, 'memory_delete', { id })).structuredContent, {
        deleted: true,
      });
    } finally {
      await client.close();
    }
  });
});
