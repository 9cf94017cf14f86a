import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { formEndingWith, signedInOnConnections } from '../helpers/connections.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import type { TestBrowser } from '../helpers/oauth-browser.js';
import { call, connectClient, eventually, textOf, upstreamsConfig } from '../helpers/upstream-servers.js';
import {
  GATEWAY_CLIENT_ID,
  startUpstreamAs,
  testOnlySignIn,
  UPSTREAM_SUBJECTS,
  type UpstreamAs,
} from '../fixtures/upstream-as.js';
import { startPersonUpstream, type PersonUpstream } from '../fixtures/person-upstream-server.js';

const CLIENT_SECRET = 'gateway-secret-at-the-upstream-as-0c9f';

/**
 * person-oauth end to end with the real pieces (issue 13): an upstream AS on oidc-provider, an
 * HTTP MCP upstream that accepts only its audience-bound tokens and answers which upstream
 * account called, and the gateway's own OAuth client (openid-client through its egress guard).
 * alice and bob connect on /account/connections; each call reaches the upstream as its own
 * person; disconnecting stops the next call.
 */
describe('people connect their own upstream account with OAuth, and each call acts as them', () => {
  let as: UpstreamAs;
  let upstream: PersonUpstream;
  let t: TestGateway;
  let origin: string;
  const clients: Client[] = [];

  before(async () => {
    as = await startUpstreamAs({ clientSecret: CLIENT_SECRET, scopes: ['files:read'] });
    upstream = await startPersonUpstream({ issuer: as.issuer });
    as.resources.add(upstream.url);
    t = await startTestGateway({
      env: { UPSTREAM_AS_SECRET: CLIENT_SECRET },
      config: upstreamsConfig(
        [
          {
            name: 'ws',
            http: { url: upstream.url, allowHttp: true, allowAddresses: ['127.0.0.1/32'] },
            auth: {
              mode: 'person-oauth',
              issuer: as.issuer,
              clientId: GATEWAY_CLIENT_ID,
              clientSecret: 'env:UPSTREAM_AS_SECRET',
              scopes: ['files:read'],
              scopeText: { 'files:read': 'Read your files' },
            },
            pinning: 'trust-on-first-use',
            tools: { whoami: { class: 'read', labels: [] } },
          },
        ],
        { connections: { oauthEgress: { allowAddresses: ['127.0.0.1/32'], allowHttpHosts: ['127.0.0.1'] } } },
      ),
    });
    origin = new URL(t.url).origin;
    as.serve([`${origin}/account/connections/callback`]);
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'alice password 1');
    await addUser(db, 'bob', 'bob password 22');
    await addUser(db, 'carol', 'carol password 3');
    await db.close();
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await t?.close();
    await upstream?.close();
    await as?.close();
  });

  /** Signs in on the connections page, presses Connect, signs in at the upstream AS, comes back. */
  async function connect(name: 'alice' | 'bob', password: string): Promise<TestBrowser> {
    const browser = await signedInOnConnections(origin, { name, password });
    const page = await browser.navigate('/account/connections');
    assert.match(page.body, /Read your files/, 'the page says what will be asked, in plain words');
    const { csrf, action } = formEndingWith(page.body, '/ws/connect');
    const sent = await browser.navigate(action, { form: { csrf } });
    const authorize = new URL(sent.url);
    assert.equal(authorize.origin, new URL(as.issuer).origin, 'sent to the upstream AS');
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorize.searchParams.get('resource'), upstream.url);
    assert.equal(authorize.searchParams.get('scope'), 'files:read');
    const callback = await testOnlySignIn(authorize.href, `${origin}/account/connections/callback`, {
      login: name,
    });
    const back = await browser.navigate(callback.pathname + callback.search);
    assert.match(back.body, /connected as/i, back.body.slice(0, 600));
    return browser;
  }

  async function client(owner: string): Promise<Client> {
    const c = await connectClient(t.url, (await t.key({ owner, scopes: ['ws:read'] })).key);
    clients.push(c);
    return c;
  }

  it('alice and bob each reach the upstream as their own account; carol is asked to connect', async () => {
    const aliceBrowser = await connect('alice', 'alice password 1');
    await connect('bob', 'bob password 22');
    const alice = await client('alice');
    const bob = await client('bob');
    await eventually(async () => {
      const { tools } = await alice.listTools();
      return tools.some((x) => x.name === 'ws__whoami') ? true : undefined;
    }, 'the upstream listed through a person');
    assert.match(textOf(await call(alice, 'ws__whoami', {})), new RegExp(UPSTREAM_SUBJECTS.alice));
    assert.match(textOf(await call(bob, 'ws__whoami', {})), new RegExp(UPSTREAM_SUBJECTS.bob));
    const accepted = upstream.calls.filter((c) => c.outcome === 'accepted' && c.tool === 'whoami');
    assert.deepEqual(new Set(accepted.map((c) => c.subject)), new Set(Object.values(UPSTREAM_SUBJECTS)));

    const carol = await client('carol');
    const refused = await call(carol, 'ws__whoami', {});
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /\/account\/connections/);
    assert.ok(
      !upstream.calls.some((c) => c.outcome === 'accepted' && c.subject === undefined),
      'no call without a person',
    );

    // alice disconnects: her next call is refused with how to connect; bob is unaffected.
    const page = await aliceBrowser.navigate('/account/connections');
    const { csrf, action } = formEndingWith(page.body, '/disconnect');
    await aliceBrowser.navigate(action, { form: { csrf } });
    const after = await call(alice, 'ws__whoami', {});
    assert.equal(after.isError, true);
    assert.match(textOf(after), /connect/i);
    assert.match(textOf(await call(bob, 'ws__whoami', {})), new RegExp(UPSTREAM_SUBJECTS.bob));
    assert.ok(
      as.requests.some((r) => r.endpoint === 'revocation'),
      'revoked at the upstream AS',
    );
  });
});
