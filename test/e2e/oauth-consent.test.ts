import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import {
  addUser,
  authorizationRequest,
  openOAuthTables,
  registerClient,
  tokenRequest,
} from '../helpers/oauth-gateway.js';

const alice = { name: 'alice', password: 'correct horse' };

describe('login and consent pages', () => {
  let t: TestGateway;
  let db: OAuthDatabase;
  let origin: string;
  before(async () => {
    t = await startTestGateway({ env: { PORTCULLIS_OAUTH__LOGIN__MAX_FAILURES_PER_ACCOUNT: '3' } });
    origin = t.gw.url.origin;
    db = openOAuthTables(t);
    await addUser(db, 'alice', 'correct horse');
    await addUser(db, 'bob', 'battery staple');
  });
  after(async () => {
    await db.close();
    await t.close();
  });

  /** Starts a flow and signs in, leaving the browser on the consent page. */
  async function atConsent(browser = new TestBrowser(origin), name = 'Consent test app') {
    const client = await registerClient(origin, { client_name: name });
    const { url, verifier } = authorizationRequest(origin, client, {
      scope: 'memory:read memory:write',
      resource: t.url,
    });
    const login = await browser.navigate(url);
    const form = formOf(login.body);
    const consent = await browser.navigate(form.action, { form: { csrf: form.csrf, ...alice } });
    return { browser, client, verifier, consent, form: formOf(consent.body) };
  }

  it('shows the client name, where it sends you back, and the scopes in plain words', async () => {
    const { consent } = await atConsent(undefined, 'Research <b>assistant</b>');
    assert.equal(consent.res.status, 200);
    assert.match(consent.body, /Research &lt;b&gt;assistant&lt;\/b&gt;/, 'the name is escaped, never markup');
    assert.match(consent.body, /Sends you back to\s*<strong>127\.0\.0\.1:1<\/strong>/);
    assert.match(consent.body, /Read and search your saved notes/);
    assert.match(consent.body, /Save new notes for you/);
  });

  it('cannot be framed and runs no script: frame-ancestors none, X-Frame-Options, strict CSP', async () => {
    const { consent } = await atConsent();
    const csp = consent.res.headers.get('content-security-policy')!;
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /script-src|unsafe-inline/);
    assert.match(csp, /form-action 'self' http:\/\/127\.0\.0\.1:1/);
    assert.equal(consent.res.headers.get('x-frame-options'), 'DENY');
    assert.doesNotMatch(consent.body, /<script|style=/);
  });

  it('refuses a consent POST without the CSRF token, with another form’s token, or from another site', async () => {
    const { browser, form } = await atConsent();
    const other = await atConsent(new TestBrowser(origin));
    for (const csrf of ['', 'x'.repeat(43), other.form.csrf]) {
      const res = await browser.request(form.action, { form: { csrf } });
      assert.equal(res.status, 403, `csrf=${csrf.slice(0, 5)}`);
    }
    const crossSite = await browser.request(form.action, {
      form: { csrf: form.csrf },
      origin: 'https://evil.example',
    });
    assert.equal(crossSite.status, 403);
    // The genuine form still works after the forgeries.
    const ok = await browser.request(form.action, { form: { csrf: form.csrf } });
    assert.equal(ok.status, 303);
  });

  it('cannot be completed in a browser that did not start the request', async () => {
    const { form } = await atConsent();
    const victim = new TestBrowser(origin);
    const page = await victim.navigate(form.action.replace(/\/confirm$/, ''));
    assert.equal(page.res.status, 400);
    assert.match(page.body, /no longer valid/);
  });

  it('a replayed consent and a replayed code are both refused', async () => {
    const { browser, client, verifier, form } = await atConsent();
    const first = await browser.navigate(form.action, { form: { csrf: form.csrf } });
    const callback = new URL(first.url);
    const code = callback.searchParams.get('code')!;
    assert.ok(code);
    const replay = await browser.request(form.action, { form: { csrf: form.csrf } });
    assert.equal(replay.status, 400, 'the interaction is gone once finished');
    const redeem = () =>
      tokenRequest(origin, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: client.redirectUri,
        client_id: client.clientId,
        code_verifier: verifier,
        resource: t.url,
      });
    assert.equal((await redeem()).status, 200);
    assert.equal((await redeem()).body.error, 'invalid_grant');
  });

  it('deny sends access_denied back to the client with the state', async () => {
    const client = await registerClient(origin);
    const { url } = authorizationRequest(origin, client, {
      scope: 'memory:read',
      resource: t.url,
      state: 'st8',
    });
    const callback = await new TestBrowser(origin).authorize(url, { ...alice, consent: 'deny' });
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('state'), 'st8');
    assert.equal(callback.searchParams.get('iss'), `${origin}/oauth`);
  });

  it('locks an account after repeated failed logins, with the same message for every failure', async () => {
    const client = await registerClient(origin);
    const browser = new TestBrowser(origin);
    const { url } = authorizationRequest(origin, client, { scope: 'memory:read', resource: t.url });
    let page = await browser.navigate(url);
    const messages = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const form = formOf(page.body);
      page = await browser.navigate(form.action, {
        form: { csrf: form.csrf, name: 'bob', password: `wrong ${i}` },
      });
      assert.equal(page.res.status, 401);
      messages.add(/role="alert">([^<]*)</.exec(page.body)![1]!);
    }
    const unknown = formOf(page.body);
    page = await browser.navigate(unknown.action, {
      form: { csrf: unknown.csrf, name: 'nobody', password: 'x' },
    });
    messages.add(/role="alert">([^<]*)</.exec(page.body)![1]!);
    assert.equal(messages.size, 1, 'unknown names and wrong passwords read the same');
    const locked = formOf(page.body);
    page = await browser.navigate(locked.action, {
      form: { csrf: locked.csrf, name: 'bob', password: 'battery staple' },
    });
    assert.match(page.body, /Too many failed attempts/);
  });
});
