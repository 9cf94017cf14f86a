import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyAuditStore } from '../../src/audit/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import {
  addUser,
  authorizationRequest,
  openOAuthTables,
  registerClient,
  type PublicClient,
} from '../helpers/oauth-gateway.js';

const ALICE = { name: 'alice', password: 'correct horse battery' };
const BOB = { name: 'bob', password: 'battery staple horse' };
const WRONG = 'not the password';
const THROTTLED = /Too many failed attempts/;
const APPROVAL = `/approvals/apr_${'g'.repeat(22)}`;

/**
 * Attack: a password guesser spreads guesses for one account over every page with a sign-in
 * form (the OAuth authorization sign-in, /account and /approvals/<id>), hoping each page keeps
 * its own count. There is one sign-in for people, built once, so the account has one budget
 * (oauth.login.maxFailuresPerAccount, 5 by default) whichever page the guesses arrive on; and
 * each attempt is recorded in the audit chain.
 */
describe('attack: spreading password guesses over the sign-in pages', () => {
  let t: TestGateway;
  let client: PublicClient;
  let origin: string;
  before(async () => {
    t = await startTestGateway();
    origin = t.gw.url.origin;
    const db = openOAuthTables(t);
    await addUser(db, ALICE.name, ALICE.password);
    await addUser(db, BOB.name, BOB.password);
    await db.close();
    client = await registerClient(origin);
  });
  after(() => t.close());

  /** The sign-in form of each page, freshly opened in `browser`: its action and CSRF token. */
  const pages = {
    account: async (browser: TestBrowser) => formOf((await browser.navigate('/account')).body),
    approvals: async (browser: TestBrowser) => formOf((await browser.navigate(APPROVAL)).body),
    oauth: async (browser: TestBrowser) => {
      const { url } = authorizationRequest(origin, client, {
        scope: 'memory:read',
        resource: t.gw.mcpUrl.href,
      });
      const page = await browser.navigate(url);
      const form = formOf(page.body);
      assert.match(form.action, /^\/oauth\/interaction\/[^/]+\/login$/);
      return form;
    },
  } as const;

  /** Posts one sign-in attempt on a page; returns the answer and the browser it was made in. */
  async function attempt(page: keyof typeof pages, name: string, password: string) {
    const browser = new TestBrowser(origin);
    const { action, csrf } = await pages[page](browser);
    const res = await browser.request(action, { form: { csrf, name, password } });
    return { res, body: res.status === 303 ? '' : await res.text(), browser };
  }

  it('five wrong guesses spread over three pages lock the account on all of them', async () => {
    for (const page of ['account', 'oauth', 'approvals', 'account', 'oauth'] as const) {
      const { res, body } = await attempt(page, ALICE.name, WRONG);
      assert.equal(res.status, 401, `${page}: a wrong password is refused`);
      assert.match(body, /do not match an active account/);
    }
    // The sixth try, even with the right password, is refused wherever it is made.
    for (const page of ['approvals', 'account', 'oauth'] as const) {
      const { res, body, browser } = await attempt(page, ALICE.name, ALICE.password);
      assert.equal(res.status, 401, `${page}: the locked account does not sign in`);
      assert.match(body, THROTTLED, `${page} reports the lock`);
      const account = await browser.navigate('/account');
      assert.match(account.body, /<h1>Sign in<\/h1>/, `${page}: no session was started`);
    }
  });

  it('another person signs in on every page while that account is locked', async () => {
    for (const page of ['account', 'approvals'] as const) {
      const { res, browser } = await attempt(page, BOB.name, BOB.password);
      assert.equal(res.status, 303, `${page}: bob is let in`);
      const account = await browser.navigate('/account');
      assert.match(account.body, /Connected apps/);
    }
    const browser = new TestBrowser(origin);
    const { url } = authorizationRequest(origin, client, {
      scope: 'memory:read',
      resource: t.gw.mcpUrl.href,
    });
    const callback = await browser.authorize(url, BOB);
    assert.ok(callback.searchParams.get('code'), 'the OAuth sign-in goes on to a code');
  });

  it('every attempt on every page is in the audit chain, named by the account it tried', async () => {
    const records = (await t.audit.log.query({ limit: 1000 })).filter((r) => r.event === 'authentication');
    const logins = records.filter((r) => r.reasons.some((x) => x.startsWith('login-')));
    const failedAlice = logins.filter((r) => r.principal === 'alice' && r.reasons[0] === 'login-failed');
    assert.equal(failedAlice.length, 8, 'five wrong guesses and three refused while locked');
    for (const r of failedAlice) {
      assert.equal(r.decision, 'deny');
      assert.equal(r.outcome, 'denied');
      assert.equal(r.authMethod, 'none');
      assert.equal(r.tool, undefined);
    }
    assert.deepEqual(
      failedAlice.map((r) => r.errorCode),
      [...Array<string>(5).fill('wrong-credentials'), ...Array<string>(3).fill('login-throttled')],
    );
    const okBob = logins.filter((r) => r.principal === 'bob' && r.reasons[0] === 'login-succeeded');
    assert.equal(okBob.length, 3);
    for (const r of okBob) {
      assert.equal(r.decision, 'allow');
      assert.equal(r.outcome, 'ok');
      assert.equal(r.tenant, 'bob');
    }
    // The OAuth sign-in names the app it was for.
    assert.ok(okBob.some((r) => r.clientId === client.clientId));
    const verdict = await verifyAuditStore(t.audit.store, t.audit.keys.publicKey);
    assert.equal(verdict.ok, true, 'the chain still verifies');
  });
});

/**
 * The same attack against the per-address budget: guesses at different accounts from one
 * address, spread over the pages, count once (`oauth.login.maxFailuresPerAddress`).
 */
describe('attack: spraying names over the sign-in pages from one address', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ config: 'oauth:\n  login:\n    maxFailuresPerAddress: 3\n' });
    const db = openOAuthTables(t);
    await addUser(db, BOB.name, BOB.password);
    await db.close();
  });
  after(() => t.close());

  it('three failures on three pages lock the address on all of them, for every account', async () => {
    const origin = t.gw.url.origin;
    const client = await registerClient(origin);
    const forms: Record<string, (b: TestBrowser) => Promise<{ action: string; csrf: string }>> = {
      account: async (b) => formOf((await b.navigate('/account')).body),
      approvals: async (b) => formOf((await b.navigate(APPROVAL)).body),
      oauth: async (b) => {
        const { url } = authorizationRequest(origin, client, {
          scope: 'memory:read',
          resource: t.gw.mcpUrl.href,
        });
        return formOf((await b.navigate(url)).body);
      },
    };
    const post = async (page: string, name: string, password: string) => {
      const b = new TestBrowser(origin);
      const { action, csrf } = await forms[page]!(b);
      const res = await b.request(action, { form: { csrf, name, password } });
      return { status: res.status, body: res.status === 303 ? '' : await res.text() };
    };
    assert.equal((await post('oauth', 'carol', WRONG)).status, 401);
    assert.equal((await post('account', 'dave', WRONG)).status, 401);
    assert.equal((await post('approvals', 'erin', WRONG)).status, 401);
    for (const page of ['account', 'approvals', 'oauth']) {
      const r = await post(page, BOB.name, BOB.password);
      assert.equal(r.status, 401, `${page}: the address is locked, whoever signs in`);
      assert.match(r.body, THROTTLED);
    }
  });
});
