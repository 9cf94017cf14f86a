import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { approvalLink, decideOnPage } from '../helpers/policy-approval.js';
import { ACCEPT, callTool, connectV2, textOf } from '../helpers/policy-clients.js';

const ALICE = { name: 'alice', password: 'correct horse battery' };
const BOB = { name: 'bob', password: 'battery staple horse' };

/**
 * Out-of-band confirmation: a client that cannot elicit gets the URL of an approval page; the
 * person signs in as themselves, sees the exact call and approves or denies; the client's retry
 * of the same call runs once.
 */
describe('the out-of-band approval page', () => {
  let t: TestGateway;
  let key: string;
  let client: Client;
  before(async () => {
    t = await startTestGateway();
    key = (await t.key({ owner: 'alice' })).key;
    const db = openOAuthTables(t);
    await addUser(db, 'alice', ALICE.password);
    await addUser(db, 'bob', BOB.password);
    await db.close();
    ({ client } = await connectV2(t.url, key));
  });
  after(async () => {
    await client.close();
    await t.close();
  });

  const save = async (content: string) =>
    (await callTool(client, 'memory_save', { content })).structuredContent.id as string;
  const exists = async (id: string) => (await callTool(client, 'memory_get', { id })).isError !== true;
  const browser = () => new TestBrowser(t.gw.url.origin);
  const lastConfirmation = async () => {
    const records = await t.audit.log.query({ tool: 'memory_delete', limit: 20, newest: true });
    const found = records.reverse().find((r) => r.event === 'confirmation');
    assert.ok(found, 'the page decision is audited');
    return found;
  };

  it('an approved call runs once when the client calls again, and only once', async () => {
    const id = await save('Approve me on the page.');
    const first = await callTool(client, 'memory_delete', { id });
    assert.equal(first.isError, true);
    const link = approvalLink(textOf(first));
    assert.match(textOf(first), new RegExp(`Pending call: ${link.id}`));

    // Asking again before the person answered points at the same pending call.
    assert.equal(approvalLink(textOf(await callTool(client, 'memory_delete', { id }))).id, link.id);

    const page = await decideOnPage(browser(), link.url, ALICE, 'approve');
    assert.equal(page.status, 200);
    assert.match(page.body, /The app can now run this exact call once/);
    assert.equal(await exists(id), true, 'approving does not run the call by itself');

    const ran = await callTool(client, 'memory_delete', { id });
    assert.deepEqual(ran.structuredContent, { deleted: true }, textOf(ran));
    assert.equal(await exists(id), false);

    const decided = await lastConfirmation();
    assert.deepEqual(decided.reasons, ['confirmation-accepted']);
    assert.equal(decided.decision, 'allow');
    assert.match(decided.args!.hash, /^[0-9a-f]{64}$/, 'the approval is audited with the argument hash');
  });

  it('an approval is for the exact arguments: another note needs its own', async () => {
    const a = await save('Note A.');
    const b = await save('Note B.');
    const link = approvalLink(textOf(await callTool(client, 'memory_delete', { id: a })));
    await decideOnPage(browser(), link.url, ALICE, 'approve');
    const other = await callTool(client, 'memory_delete', { id: b });
    assert.equal(other.isError, true);
    assert.notEqual(approvalLink(textOf(other)).id, link.id);
    assert.equal(await exists(b), true);
  });

  it('a denial leaves the note untouched and is reported to the client once', async () => {
    const id = await save('Deny me.');
    const link = approvalLink(textOf(await callTool(client, 'memory_delete', { id })));
    const page = await decideOnPage(browser(), link.url, ALICE, 'deny');
    assert.match(page.body, /It will not run/);
    const retry = await callTool(client, 'memory_delete', { id });
    assert.match(textOf(retry), /declined/);
    assert.equal(await exists(id), true);
    assert.deepEqual((await lastConfirmation()).reasons, ['confirmation-declined']);
    // The next attempt asks afresh.
    assert.notEqual(approvalLink(textOf(await callTool(client, 'memory_delete', { id }))).id, link.id);
  });

  it('another person cannot see or approve the call', async () => {
    const id = await save('Only alice decides.');
    const link = approvalLink(textOf(await callTool(client, 'memory_delete', { id })));
    const bobs = browser();
    const page = await decideOnPage(bobs, link.url, BOB, 'approve');
    assert.equal(page.status, 404);
    assert.doesNotMatch(page.body, /memory_delete|Only alice/);
    // Nor by posting the form of his own making.
    const forged = await bobs.request(link.url, { form: { csrf: 'x', decision: 'approve' } });
    assert.equal(forged.status, 404);
    const retry = await callTool(client, 'memory_delete', { id });
    assert.equal(approvalLink(textOf(retry)).id, link.id, 'still pending');
    assert.equal(await exists(id), true);
  });

  it('the link signs nobody in, the form needs its CSRF token, and the page is never framed', async () => {
    const id = await save('Headers.');
    const link = approvalLink(textOf(await callTool(client, 'memory_delete', { id })));
    const anonymous = await fetch(link.url);
    const body = await anonymous.text();
    assert.equal(anonymous.status, 200);
    assert.match(body, /<h1>Sign in<\/h1>/);
    assert.doesNotMatch(body, /memory_delete|Headers\./, 'nothing of the call before sign-in');
    assert.match(anonymous.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.match(anonymous.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(anonymous.headers.get('x-frame-options'), 'DENY');
    assert.equal(anonymous.headers.get('cache-control'), 'no-store');

    const b = browser();
    const signedIn = await decideOnPage(
      b,
      `${t.gw.url.origin}/approvals/apr_${'x'.repeat(22)}`,
      ALICE,
      'approve',
    );
    assert.equal(signedIn.status, 404, 'an unknown link reads like someone else’s');
    const noToken = await b.request(link.url, { form: { decision: 'approve' } });
    assert.equal(noToken.status, 403);
    const crossSite = await b.request(link.url, {
      form: { csrf: 'x', decision: 'approve' },
      origin: 'https://evil.example',
    });
    assert.equal(crossSite.status, 403);
    assert.match(textOf(await callTool(client, 'memory_delete', { id })), /needs a person's approval/);
  });

  it('a tool the policy marks out-of-band uses the page even for a client that can elicit', async () => {
    const t2 = await startTestGateway({
      config: 'policy:\n  tools:\n    memory_delete: { approval: out-of-band }\n',
    });
    try {
      const { client: c2, asked } = await connectV2(t2.url, (await t2.key()).key, () => ACCEPT);
      try {
        const saved = await callTool(c2, 'memory_save', { content: 'x' });
        const r = await callTool(c2, 'memory_delete', { id: saved.structuredContent.id });
        assert.equal(r.isError, true);
        assert.ok(approvalLink(textOf(r)));
        assert.equal(asked.length, 0);
      } finally {
        await c2.close();
      }
    } finally {
      await t2.close();
    }
  });
});

describe('an approval expires', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ config: 'policy:\n  confirm:\n    approvalTtlSeconds: 1\n' });
    const db = openOAuthTables(t);
    await addUser(db, 'alice', ALICE.password);
    await db.close();
  });
  after(() => t.close());

  it('after its lifetime it can neither be approved nor run the call', async () => {
    const { client } = await connectV2(t.url, (await t.key({ owner: 'alice' })).key);
    try {
      const id = (await callTool(client, 'memory_save', { content: 'Late.' })).structuredContent.id as string;
      const link = approvalLink(textOf(await callTool(client, 'memory_delete', { id })));
      // Sign in first, then let the one-second lifetime pass before pressing Approve.
      const b = new TestBrowser(t.gw.url.origin);
      const login = await b.navigate(link.url);
      const form = /name="csrf" value="([^"]+)"/.exec(login.body)![1]!;
      const page = await b.navigate(`/approvals/${link.id}/login`, { form: { csrf: form, ...ALICE } });
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const late = await b.request(link.url, { form: { csrf, decision: 'approve' } });
      assert.equal(late.status, 409);
      const retry = await callTool(client, 'memory_delete', { id });
      assert.match(textOf(retry), /The earlier approval expired/);
      assert.notEqual(approvalLink(textOf(retry)).id, link.id);
      assert.equal((await callTool(client, 'memory_get', { id })).isError, undefined);
      const [last] = await t.audit.log.query({ tool: 'memory_delete', limit: 1, newest: true });
      assert.ok(last!.reasons.includes('confirmation-expired'));
    } finally {
      await client.close();
    }
  });
});
