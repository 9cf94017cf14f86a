import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as Transport1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, openTestPage } from '../helpers/chromium.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { addClient, addUser, openOAuthTables, tokenRequest } from '../helpers/oauth-gateway.js';
import { approvalLink, decideOnPage } from '../helpers/policy-approval.js';
import {
  answers,
  callTool,
  connectV2,
  modernCall,
  textOf,
  type ToolResult,
} from '../helpers/policy-clients.js';

const ALICE = { name: 'alice', password: 'correct horse battery' };

/** What an auto-accepting client was asked: the mode, and the URL of a URL-mode request. */
interface Asked {
  readonly mode: string;
  readonly url?: string;
  readonly elicitationId?: string;
  readonly message: string;
}

/**
 * The agent loop of the attack: an SDK v2 client on 2026-07-28 that declares both elicitation
 * modes and answers every request "accept" (and `approve: true`) without asking anyone.
 */
async function autoAcceptingV2(url: string, token: string, modes: ('form' | 'url')[] = ['form', 'url']) {
  const asked: Asked[] = [];
  const client = new Client(
    { name: 'auto-accept', version: '1.0.0' },
    {
      versionNegotiation: { mode: 'auto' },
      capabilities: { elicitation: Object.fromEntries(modes.map((m) => [m, {}])) },
    },
  );
  client.setRequestHandler('elicitation/create', async (request) => {
    const p = request.params as { mode?: string; url?: string; message: string };
    asked.push({ mode: p.mode ?? 'form', message: p.message, ...(p.url ? { url: p.url } : {}) });
    return p.mode === 'url' ? { action: 'accept' } : { action: 'accept', content: { approve: true } };
  });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return { client, asked };
}

/** The same loop on SDK 1.x in a 2025-11-25 stateful session; also collects completion notices. */
async function autoAcceptingSession(url: string, token: string, modes: ('form' | 'url')[] = ['form', 'url']) {
  const asked: Asked[] = [];
  const completed: string[] = [];
  const client = new Client1(
    { name: 'auto-accept-1x', version: '1.0.0' },
    { capabilities: { elicitation: Object.fromEntries(modes.map((m) => [m, {}])) } },
  );
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    const p = request.params as { mode?: string; url?: string; message: string; elicitationId?: string };
    asked.push({
      mode: p.mode ?? 'form',
      message: p.message,
      ...(p.url ? { url: p.url } : {}),
      ...(p.elicitationId ? { elicitationId: p.elicitationId } : {}),
    });
    return p.mode === 'url' ? { action: 'accept' } : { action: 'accept', content: { approve: true } };
  });
  client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => {
    completed.push(n.params.elicitationId);
  });
  const transport = new Transport1(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  assert.ok(transport.sessionId, 'a stateful session');
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as ToolResult;
  return { client, asked, completed, call };
}

const until = async (what: string, check: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/**
 * Attack: an agent loop (or a client that auto-accepts elicitations) answers the gateway's
 * confirmation prompt for itself, so a destructive call the model was talked into runs with no
 * person involved. By default a destructive call is now approved out of band: the client is
 * given a URL (URL-mode elicitation on 2025-11-25 and 2026-07-28) to the approval page where the
 * person signs in; the client's "accept" only means it showed the link.
 */
describe('attack: a client that approves its own destructive call', () => {
  let t: TestGateway;
  let key: string;
  before(async () => {
    t = await startTestGateway();
    key = (await t.key({ owner: 'alice' })).key;
    const db = openOAuthTables(t);
    await addUser(db, ALICE.name, ALICE.password);
    await db.close();
  });
  after(() => t.close());

  const save = async (content: string) => {
    const r = await modernCall(t.url, key, 'memory_save', { content });
    return r.result.structuredContent.id as string;
  };
  const exists = async (id: string) =>
    (await modernCall(t.url, key, 'memory_get', { id })).result.isError !== true;

  it('an SDK v2 client that auto-accepts every elicitation cannot run memory_delete by itself', async () => {
    const id = await save('Keep me: nobody approved.');
    const { client, asked } = await autoAcceptingV2(t.url, key);
    try {
      const call = callTool(client, 'memory_delete', { id });
      await until('the URL request', () => asked.length > 0);
      assert.deepEqual(
        asked.map((a) => a.mode),
        ['url'],
        'the client is given a link, never a form it could answer',
      );
      const link = approvalLink(asked[0]!.url!);
      assert.equal(new URL(link.url).origin, t.gw.url.origin, 'the link is the gateway’s approval page');
      // The client said "accept"; the call is still waiting for the person, and nothing ran.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await exists(id), true);

      const page = await decideOnPage(new TestBrowser(t.gw.url.origin), link.url, ALICE, 'deny');
      assert.match(page.body, /It will not run/);
      const r = await call;
      assert.equal(r.isError, true);
      assert.match(textOf(r), /declined/);
      assert.equal(await exists(id), true);
    } finally {
      await client.close();
    }
  });

  it('a client that can show only forms is given the approval link, not a form', async () => {
    const id = await save('Keep me too.');
    const { client, asked } = await autoAcceptingV2(t.url, key, ['form']);
    try {
      const r = await callTool(client, 'memory_delete', { id });
      assert.equal(r.isError, true);
      assert.ok(approvalLink(textOf(r)));
      assert.equal(asked.length, 0, 'no in-band form for a destructive tool');
      assert.equal(await exists(id), true);
    } finally {
      await client.close();
    }
  });

  it('an auto-accepting 2025-11-25 session gets a URL on its stream and the call waits for the page', async () => {
    const { client, asked, completed, call } = await autoAcceptingSession(t.url, key);
    try {
      const id = (await call('memory_save', { content: 'Session: approve on the page.' })).structuredContent
        .id as string;
      const pending = call('memory_delete', { id });
      await until('the URL request', () => asked.length > 0);
      assert.equal(asked[0]!.mode, 'url');
      assert.match(asked[0]!.elicitationId ?? '', /^apr_/);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(await exists(id), true, 'accepting the link ran nothing');

      // The person approves with plain form posts (no browser needed for the HTTP contract).
      const page = await decideOnPage(new TestBrowser(t.gw.url.origin), asked[0]!.url!, ALICE, 'approve');
      assert.equal(page.status, 200);
      const r = await pending;
      assert.deepEqual(r.structuredContent, { deleted: true }, textOf(r));
      assert.equal(await exists(id), false);
      assert.deepEqual(completed, [asked[0]!.elicitationId], 'the client is told the page was completed');
      assert.deepEqual(
        asked.map((a) => a.mode),
        ['url'],
      );
    } finally {
      await client.close();
    }
  });

  it('a 2025-11-25 session that can show only forms is given the approval link in the result', async () => {
    const { client, asked, call } = await autoAcceptingSession(t.url, key, ['form']);
    try {
      const id = (await call('memory_save', { content: 'Session, forms only.' })).structuredContent
        .id as string;
      const r = await call('memory_delete', { id });
      assert.equal(r.isError, true);
      assert.ok(approvalLink(textOf(r)));
      assert.equal(asked.length, 0);
      assert.equal(await exists(id), true);
    } finally {
      await client.close();
    }
  });

  it('a pre-filled "accept" on 2026-07-28 never runs the call', async () => {
    const id = await save('Pre-filled.');
    const r = await modernCall(
      t.url,
      key,
      'memory_delete',
      { id },
      { inputResponses: answers({ action: 'accept', content: { approve: true } }) },
    );
    assert.notEqual(r.result.structuredContent?.deleted, true);
    assert.equal(await exists(id), true);
  });

  describe('the person approves in Chromium while the client waits', { skip: chromiumMissing }, () => {
    let browser: Browser;
    let page: Page;
    before(async () => {
      ({ browser, page } = await openTestPage());
    });
    after(async () => {
      await browser?.close();
    });

    it('signing in and pressing Approve lets the waiting call run, once', async () => {
      const id = await save('Approve me in the browser.');
      const { client, asked } = await autoAcceptingV2(t.url, key);
      try {
        const call = callTool(client, 'memory_delete', { id });
        await until('the URL request', () => asked.length > 0);
        await page.goto(asked[0]!.url!);
        await page.getByLabel('Account name').fill(ALICE.name);
        await page.getByLabel('Password').fill(ALICE.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('button', { name: 'Approve' }).waitFor();
        assert.ok((await page.locator('#arguments').innerText()).includes(id));
        await page.getByRole('button', { name: 'Approve' }).click();
        await page.getByText('The app can now run this exact call once').waitFor();
        const r = await call;
        assert.deepEqual(r.structuredContent, { deleted: true }, textOf(r));
        assert.equal(await exists(id), false);
      } finally {
        await client.close();
      }
      // The last call's records, without the intent written before the delete ran.
      const records = (await t.audit.log.query({ tool: 'memory_delete', limit: 4, newest: true })).filter(
        (r) => r.event !== 'tool-intent',
      );
      assert.deepEqual(
        records.map((r) => [r.event, r.reasons.at(-1)]),
        [
          ['tool-call', 'confirmation-pending'],
          ['confirmation', 'confirmation-accepted'],
          ['tool-call', 'confirmation-accepted'],
        ],
      );
    });
  });
});

/**
 * The opt-in: an operator may let a tool be confirmed in-band (`approval: in-band`), for a
 * person. A client-credentials principal acts for no person, so its confirmations never go
 * in-band, whatever the policy says.
 */
describe('in-band confirmation only where the operator opted a tool in, and only for people', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({
      config: 'policy:\n  tools:\n    memory_delete: { approval: in-band }\n',
    });
  });
  after(() => t.close());

  it('an opted-in tool is confirmed with the in-band form for a person', async () => {
    const key = (await t.key({ owner: 'alice' })).key;
    const { client, asked } = await connectV2(t.url, key, () => ({
      action: 'accept',
      content: { approve: true },
    }));
    try {
      const id = (await callTool(client, 'memory_save', { content: 'In-band.' })).structuredContent.id;
      const r = await callTool(client, 'memory_delete', { id });
      assert.deepEqual(r.structuredContent, { deleted: true }, textOf(r));
      assert.equal(asked.length, 1);
    } finally {
      await client.close();
    }
  });

  it('a client-credentials token never gets the in-band form, even for an opted-in tool', async () => {
    const db = openOAuthTables(t);
    const c = await addClient(db, { grant: 'client_credentials' });
    await db.close();
    const token = await tokenRequest(
      t.gw.url.origin,
      { grant_type: 'client_credentials', scope: 'memory:read memory:write memory:delete', resource: t.url },
      {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret!)}`).toString('base64')}`,
      },
    );
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const { client, asked } = await autoAcceptingV2(t.url, token.body.access_token as string, ['form']);
    try {
      const saved = await callTool(client, 'memory_save', { content: 'Machine note.' });
      const r = await callTool(client, 'memory_delete', { id: saved.structuredContent.id });
      assert.equal(r.isError, true);
      assert.ok(approvalLink(textOf(r)), 'sent to the approval page');
      assert.equal(asked.length, 0, 'no in-band form for a client acting for nobody');
      assert.equal(
        (await callTool(client, 'memory_get', { id: saved.structuredContent.id })).isError,
        undefined,
      );
    } finally {
      await client.close();
    }
  });
});

describe('an in-band prompt never hides or cuts what it asks about', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({
      config: 'policy:\n  tools:\n    memory_save: { confirm: true, approval: in-band }\n',
    });
  });
  after(() => t.close());

  it('names hidden characters in the form, and sends a call too long for it to the page', async () => {
    const key = (await t.key({ owner: 'alice' })).key;
    const { client, asked } = await connectV2(t.url, key, () => ({
      action: 'accept',
      content: { approve: true },
    }));
    try {
      const short = await callTool(client, 'memory_save', { content: 'Pay \u202eecila\u202c bob' });
      assert.match(short.structuredContent?.id ?? '', /^note_/, textOf(short));
      assert.equal(asked.length, 1);
      assert.ok(asked[0]!.includes('⟦U+202E right-to-left override⟧'), asked[0]);
      assert.doesNotMatch(asked[0]!, /\u202e/, 'the control character itself is not in the prompt');

      const long = await callTool(client, 'memory_save', { content: 'y'.repeat(5000) });
      assert.equal(long.isError, true);
      assert.ok(approvalLink(textOf(long)), 'a call that does not fit the form is asked on the page');
      assert.equal(asked.length, 1, 'no cut-short form');
    } finally {
      await client.close();
    }
  });
});

/**
 * The approval page is what the person decides on, so it shows the whole call: every
 * character, hidden ones (bidi controls, zero-width, tag characters) made visible, and no
 * argument cut short.
 */
describe(
  'the approval page shows the whole call, hidden characters visible',
  { skip: chromiumMissing },
  () => {
    let t: TestGateway;
    let browser: Browser;
    let page: Page;
    before(async () => {
      t = await startTestGateway({ config: 'policy:\n  tools:\n    memory_save: { confirm: true }\n' });
      const db = openOAuthTables(t);
      await addUser(db, ALICE.name, ALICE.password);
      await db.close();
      ({ browser, page } = await openTestPage());
    });
    after(async () => {
      await browser?.close();
      await t.close();
    });

    it('renders bidi and zero-width characters visibly and a long argument completely', async () => {
      const key = (await t.key({ owner: 'alice' })).key;
      // "Pay bob" that displays as "Pay alice" with a right-to-left override, a zero-width
      // space inside a word, a hidden tag-character message, then 19,000 characters and an end mark.
      const content = `Pay \u202Eecila\u202C bo\u200Bb \u{E0069}\u{E0067}${'x'.repeat(19_000)}THE-END`;
      const first = await modernCall(t.url, key, 'memory_save', { content }, { elicitation: false });
      const link = approvalLink(first.result.content[0].text as string);
      await page.goto(link.url);
      await page.getByLabel('Account name').fill(ALICE.name);
      await page.getByLabel('Password').fill(ALICE.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Approve' }).waitFor();
      const shown = await page.locator('#arguments').innerText();
      for (const mark of ['U+202E', 'U+202C', 'U+200B', 'U+E0069', 'U+E0067']) {
        assert.ok(shown.includes(mark), `${mark} is shown`);
      }
      assert.doesNotMatch(
        shown,
        /[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u{E0000}-\u{E007F}]/u,
        'no hidden character reaches the page',
      );
      assert.ok(shown.includes('x'.repeat(19_000)), 'the long argument is shown in full');
      assert.ok(shown.includes('THE-END'), 'to its last character');
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByText('The app can now run this exact call once').waitFor();
      const ran = await modernCall(t.url, key, 'memory_save', { content }, { elicitation: false });
      assert.match(ran.result.structuredContent?.id ?? '', /^note_/, JSON.stringify(ran));
    });
  },
);
