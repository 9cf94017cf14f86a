import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  formEndingWith,
  KEYED_SERVER,
  signedInOnConnections,
  standInOAuthClient,
} from '../helpers/connections.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

/**
 * The connect flow of person-oauth (issue 13) against hijacking: a callback completed by another
 * signed-in person, replayed, or arriving with nobody signed in is refused; the pending state
 * lives on the server, bound to the person who pressed Connect, single use. And every form of
 * the connections page refuses a POST without its CSRF token, or with another person's.
 *
 * Uses the protocol-free stand-in client (test/helpers/connections.ts) on purpose: it isolates the
 * connections side's pending state; test/e2e/connections-oauth.test.ts runs the real client.
 */
describe('the connect callback cannot be hijacked, and every form needs its CSRF token', () => {
  let t: TestGateway;
  const oauth = standInOAuthClient();
  let alice: TestBrowser;
  let bob: TestBrowser;

  before(async () => {
    t = await startTestGateway({
      upstreamOAuth: oauth,
      config: upstreamsConfig([
        {
          name: 'gh',
          http: { url: 'http://127.0.0.1:9/mcp', allowHttp: true, allowAddresses: ['127.0.0.1/32'] },
          auth: {
            mode: 'person-oauth',
            issuer: 'https://as.example',
            clientId: 'portcullis',
            scopes: ['repo'],
            scopeText: { repo: 'Read and write your repositories' },
          },
        },
        {
          name: 'crm',
          stdio: { command: NODE, args: [KEYED_SERVER] },
          auth: { mode: 'person-secret', env: 'KEYED_KEY', label: 'your CRM key' },
        },
      ]),
    });
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'alice password 1');
    await addUser(db, 'bob', 'bob password 22');
    await db.close();
    const origin = new URL(t.url).origin;
    alice = await signedInOnConnections(origin, { name: 'alice', password: 'alice password 1' });
    bob = await signedInOnConnections(origin, { name: 'bob', password: 'bob password 22' });
  });
  after(async () => t?.close());

  /** Presses Connect for gh; returns the state of the authorization request it is sent to. */
  async function connect(browser: TestBrowser): Promise<string> {
    const page = await browser.navigate('/account/connections');
    const { csrf, action } = formEndingWith(page.body, '/gh/connect');
    const res = await browser.request(action, { form: { csrf } });
    assert.equal(res.status, 303);
    const to = new URL(res.headers.get('location')!);
    assert.equal(to.origin, 'https://as.example');
    return to.searchParams.get('state')!;
  }
  const callback = (browser: TestBrowser, state: string, who: string) =>
    browser.navigate(`/account/connections/callback?state=${state}&code=code-for-${who}`);

  it('the page shows the scopes in plain words', async () => {
    const page = await alice.navigate('/account/connections');
    assert.match(page.body, /Read and write your repositories/);
  });

  it('a callback of alice’s flow completed by bob is refused, and spent', async () => {
    const state = await connect(alice);
    const stolen = await callback(bob, state, 'bob');
    assert.equal(stolen.res.status, 400);
    assert.match(stolen.body, /started by someone else/);
    const late = await callback(alice, state, 'alice');
    assert.equal(late.res.status, 400, 'the state was single use');
    assert.match((await bob.navigate('/account/connections')).body, /Not connected/);
    assert.match((await alice.navigate('/account/connections')).body, /Not connected/);
  });

  it('alice’s own callback connects her, once; a replay is refused', async () => {
    const state = await connect(alice);
    const done = await callback(alice, state, 'alice-gh');
    assert.equal(done.res.status, 200);
    assert.match(done.body, /Connected as alice-gh/);
    const replay = await callback(alice, state, 'alice-gh');
    assert.equal(replay.res.status, 400);
    assert.match(replay.body, /unknown or has expired/);
    assert.equal(oauth.issued.length, 1, 'the code was redeemed once');
  });

  it('a callback with nobody signed in is refused, and an unknown state too', async () => {
    const state = await connect(bob);
    const stranger = new TestBrowser(new URL(t.url).origin);
    assert.equal((await callback(stranger, state, 'x')).res.status, 401);
    assert.equal((await callback(bob, 'made-up-state', 'bob')).res.status, 400);
  });

  it('every form refuses a missing token and another person’s token; the real one works', async () => {
    const page = await alice.navigate('/account/connections');
    const forms = ['/gh/connect', '/crm/secret', '/disconnect'].map((s) => formEndingWith(page.body, s));
    const bobToken = formEndingWith((await bob.navigate('/account/connections')).body, '/crm/secret').csrf;
    for (const { action } of forms) {
      for (const csrf of [undefined, bobToken, 'x'.repeat(43)]) {
        const res = await alice.request(action, {
          form: { ...(csrf ? { csrf } : {}), secret: 'k-123456789' },
        });
        assert.equal(res.status, 403, `${action} with ${csrf ? 'a wrong' : 'no'} token`);
      }
    }
    // The legitimate submission beside them: alice disconnects gh with her own token.
    const disconnect = forms[2]!;
    const res = await alice.request(disconnect.action, { form: { csrf: disconnect.csrf } });
    assert.equal(res.status, 303);
    assert.deepEqual(oauth.revoked.length, 2, 'refresh and access token revoked at the upstream AS');
  });
});
