import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { runCli } from '../helpers/cli.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startFakeIdp, type FakeIdp } from '../helpers/fake-idp.js';
import { federatedSignIn, federationEnv, idpClientFor } from '../helpers/federated-browser.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import { TestOAuthProvider } from '../helpers/oauth-client.js';
import {
  addUser,
  authorizationRequest,
  openOAuthTables,
  registerClient,
  tokenRequest,
  type PublicClient,
} from '../helpers/oauth-gateway.js';
import { eventually, upstreamsConfig } from '../helpers/upstream-servers.js';

/**
 * Finding 2 of issue 10: any person could consent to every scope, an upstream's `:destructive`
 * included. A person's role is now the ceiling of what they can hold, enforced where tokens are
 * issued (authorization, code redemption, refresh) and on every call, for OAuth tokens and for
 * the API keys they own alike. Each attack runs against a real gateway with a real upstream.
 */

const mia = { name: 'mia', password: 'member password one' }; // member
const ada = { name: 'ada', password: 'admin password one' }; // admin

/** The scopes of the "It will be able to" list (the first one on the page). */
function offered(page: string): string[] {
  const list = /<ul class="scopes">([\s\S]*?)<\/ul>/.exec(page)?.[1] ?? '';
  return [...list.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => m[1]!);
}

async function listTools(url: string, token: string): Promise<string[]> {
  const res = await postMcp(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { key: token });
  assert.equal(res.status, 200);
  const rpc = await readRpc(res);
  return (rpc.result.tools as { name: string }[]).map((t) => t.name);
}

const callTool = (url: string, token: string, name: string, args: Record<string, unknown>) =>
  postMcp(
    url,
    { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } },
    { key: token },
  );

describe('attack: a person obtains scopes beyond their role', () => {
  let back: TestGateway;
  let t: TestGateway;
  let db: OAuthDatabase;
  let origin: string;

  before(async () => {
    // The upstream: another gateway's notes tools over Streamable HTTP, where deleting is the
    // operator-classified destructive tool (scope `ops:destructive`).
    back = await startTestGateway();
    const backKey = (
      await back.key({ owner: 'front', scopes: ['memory:read', 'memory:write', 'memory:delete'] })
    ).key;
    t = await startTestGateway({
      env: { OPS_TOKEN: backKey },
      config: upstreamsConfig([
        {
          name: 'ops',
          http: {
            url: back.url,
            allowHttp: true,
            allowAddresses: ['127.0.0.1/32'],
            auth: { bearer: { secret: 'env:OPS_TOKEN' } },
          },
          pinning: 'trust-on-first-use',
          tools: {
            memory_delete: { class: 'destructive' },
            'memory_*': { class: 'read' },
            '*': { class: 'write' },
          },
        },
      ]),
    });
    origin = t.gw.url.origin;
    db = openOAuthTables(t);
    await addUser(db, mia.name, mia.password, mia.name, 'member');
    await addUser(db, ada.name, ada.password, ada.name, 'admin');
    // The upstream's tools are served once its definitions are pinned (trust on first use).
    const operator = (await t.key({ owner: 'ops-bot', scopes: ['ops:destructive'] })).key;
    await eventually(
      async () => ((await listTools(t.url, operator)).includes('ops__memory_delete') ? true : undefined),
      'the upstream tools to be served',
    );
  });
  after(async () => {
    await db?.close();
    await t?.close();
    await back?.close();
  });

  /** An authorization request for `scope`, signed in as `person`; the browser is left on the next page. */
  async function signIn(person: { name: string; password: string }, scope: string, client?: PublicClient) {
    const app = client ?? (await registerClient(origin, { client_name: 'Escalation app' }));
    const browser = new TestBrowser(origin);
    const { url, verifier } = authorizationRequest(origin, app, { scope, resource: t.url });
    const login = formOf((await browser.navigate(url)).body);
    const page = await browser.navigate(login.action, { form: { csrf: login.csrf, ...person } });
    return { browser, client: app, verifier, page };
  }

  const redeem = async (client: PublicClient, verifier: string, callback: string) => {
    const code = new URL(callback).searchParams.get('code');
    assert.ok(code, `the app got a code: ${callback}`);
    const token = await tokenRequest(origin, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      code_verifier: verifier,
      resource: t.url,
    });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    return token.body as { access_token: string; refresh_token: string; scope: string };
  };

  const refresh = (client: PublicClient, refreshToken: string, scope?: string) =>
    tokenRequest(origin, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.clientId,
      resource: t.url,
      ...(scope ? { scope } : {}),
    });

  it('a member’s consent page offers only their role’s scopes, and the token carries no more', async () => {
    const { browser, client, verifier, page } = await signIn(
      mia,
      'memory:read ops:read ops:destructive admin:audit',
    );
    assert.equal(page.res.status, 200);
    assert.deepEqual(offered(page.body).sort(), ['memory:read', 'ops:read']);
    assert.match(page.body, /Your role does not allow/, 'the person is told what was held back');
    const form = formOf(page.body);
    const done = await browser.navigate(form.action, { form: { csrf: form.csrf } });
    const token = await redeem(client, verifier, done.url);
    assert.deepEqual(token.scope.split(' ').sort(), ['memory:read', 'ops:read']);

    const tools = await listTools(t.url, token.access_token);
    assert.ok(tools.includes('ops__memory_search') && tools.includes('memory_search'));
    assert.ok(!tools.includes('ops__memory_delete'), 'the destructive upstream tool is not even listed');
    const denied = await callTool(t.url, token.access_token, 'ops__memory_delete', { id: 'x' });
    assert.equal(denied.status, 403);
    assert.match(denied.headers.get('www-authenticate') ?? '', /insufficient_scope/);
  });

  it('a real SDK client of a member steps up after the 403 and still never gets the destructive scope', async () => {
    const provider = new TestOAuthProvider({
      redirectUrl: 'http://127.0.0.1:1/callback',
      clientName: 'SDK app',
    });
    const browser = new TestBrowser(origin);
    const transport = () => new StreamableHTTPClientTransport(new URL(t.url), { authProvider: provider });
    /** Sends the person through the authorization the SDK asked for, and hands it the code. */
    const authorize = async (first: StreamableHTTPClientTransport) => {
      const callback = await browser.authorize(provider.authorizationUrl!.href, mia);
      provider.authorizationUrl = undefined;
      await first.finishAuth(
        callback.searchParams.get('code')!,
        callback.searchParams.get('iss') ?? undefined,
      );
    };
    const first = transport();
    await assert.rejects(new Client({ name: 'sdk', version: '1' }).connect(first), /nauthori[sz]ed/i);
    await authorize(first);
    const client = new Client({ name: 'sdk', version: '1' });
    const second = transport();
    await client.connect(second);
    try {
      const { tools } = await client.listTools();
      assert.ok(!tools.some((tool) => tool.name === 'ops__memory_delete'));
      // The model calls the destructive tool anyway: 403 insufficient_scope, the SDK steps up.
      const attempt = await client.callTool({ name: 'ops__memory_delete', arguments: { id: 'note_x' } }).then(
        () => 'ran',
        (err: unknown) => String(err),
      );
      // The step-up asks the person for the destructive scope (with everything held before,
      // and prompt=consent): the page names it as withheld by the role and never offers it.
      assert.ok(provider.authorizationUrl, 'the SDK asked for more after the 403');
      assert.match(provider.authorizationUrl.searchParams.get('scope') ?? '', /ops:destructive/);
      const page = await browser.navigate(provider.authorizationUrl.href);
      provider.authorizationUrl = undefined;
      assert.match(page.body, /Your role does not allow[\s\S]*<code>ops:destructive<\/code>/);
      assert.ok(!offered(page.body).includes('ops:destructive'));
      // The person presses the page's one primary button, whatever it is.
      const form = formOf(page.body);
      const answer = new URL((await browser.navigate(form.action, { form: { csrf: form.csrf } })).url);
      const code = answer.searchParams.get('code');
      if (code) {
        await second.finishAuth(code, answer.searchParams.get('iss') ?? undefined);
        const retried = await client
          .callTool({ name: 'ops__memory_delete', arguments: { id: 'note_x' } })
          .then(
            () => 'ran',
            (err: unknown) => String(err),
          );
        assert.notEqual(retried, 'ran', 'the retry after the step-up is refused again');
      } else {
        assert.equal(answer.searchParams.get('error'), 'access_denied');
      }
      assert.notEqual(attempt, 'ran');
      const scopes = String(provider.tokens().scope ?? '').split(' ');
      assert.ok(!scopes.includes('ops:destructive'), scopes.join(' '));
      assert.ok(scopes.includes('memory:read'), 'the member keeps what the role allows');
    } finally {
      await client.close();
    }
  });

  it('asking for only what the role withholds shows why, offers no Allow, and a forged Allow issues no code', async () => {
    const { browser, page } = await signIn(mia, 'ops:destructive');
    assert.equal(page.res.status, 200, page.body.slice(0, 300));
    assert.match(page.body, /Your role does not allow/);
    assert.deepEqual(offered(page.body), []);
    const form = formOf(page.body);
    assert.doesNotMatch(form.action, /\/confirm$/, 'the only button goes back to the app');
    const forged = await browser.navigate(form.action.replace(/\/abort$/, '/confirm'), {
      form: { csrf: form.csrf, scope: 'ops:destructive' },
    });
    const callback = new URL(forged.url);
    assert.equal(callback.searchParams.get('code'), null, 'no code for a forged Allow');
    assert.equal(callback.searchParams.get('error'), 'access_denied');
  });

  it('extra fields in a crafted consent POST and a later request for more widen nothing', async () => {
    // A web app: oidc-provider remembers its consent (a native app is asked at every sign-in).
    const webApp = await registerClient(origin, { client_name: 'Escalation app', application_type: 'web' });
    const first = await signIn(mia, 'memory:read', webApp);
    const form = formOf(first.page.body);
    const done = await first.browser.navigate(form.action, {
      form: {
        csrf: form.csrf,
        scope: 'ops:destructive admin:audit',
        'missingResourceScopes[http://x]': 'ops:destructive',
        resource: t.url,
      },
    });
    const token = await redeem(first.client, first.verifier, done.url);
    assert.equal(token.scope, 'memory:read');
    // The same app asks again for more: the remembered consent is reused as it is, and the
    // withheld scope is neither asked for nor issued.
    const again = await signIn(mia, 'memory:read ops:destructive', first.client);
    assert.equal((await redeem(again.client, again.verifier, again.page.url)).scope, 'memory:read');
  });

  it('a native app, asked for consent at every sign-in, still gets the member’s scopes each time', async () => {
    const app = await registerClient(origin, { client_name: 'Desktop app', application_type: 'native' });
    for (const round of [1, 2]) {
      const { browser, verifier, page } = await signIn(mia, 'memory:read ops:destructive', app);
      assert.equal(page.res.status, 200, `round ${round}: ${page.body.slice(0, 200)}`);
      assert.match(page.body, /Your role does not allow/);
      const form = formOf(page.body);
      assert.match(form.action, /\/confirm$/, `round ${round}: an Allow is offered`);
      const done = await browser.navigate(form.action, { form: { csrf: form.csrf } });
      assert.equal((await redeem(app, verifier, done.url)).scope, 'memory:read');
    }
  });

  it('a refresh cannot ask for more than the role, and a lowered role caps the live token and the next refresh', async () => {
    // The member asks the token endpoint directly for the destructive scope.
    const m = await signIn(mia, 'memory:read');
    const mForm = formOf(m.page.body);
    const mToken = await redeem(
      m.client,
      m.verifier,
      (await m.browser.navigate(mForm.action, { form: { csrf: mForm.csrf } })).url,
    );
    const widened = await refresh(m.client, mToken.refresh_token, 'memory:read ops:destructive');
    assert.ok(
      widened.status !== 200 || !String(widened.body.scope).includes('ops:destructive'),
      JSON.stringify(widened.body),
    );

    // The admin gets the destructive scope (the legitimate path)…
    const a = await signIn(ada, 'memory:read ops:destructive');
    assert.deepEqual(offered(a.page.body).sort(), ['memory:read', 'ops:destructive']);
    const aForm = formOf(a.page.body);
    const aToken = await redeem(
      a.client,
      a.verifier,
      (await a.browser.navigate(aForm.action, { form: { csrf: aForm.csrf } })).url,
    );
    assert.deepEqual(aToken.scope.split(' ').sort(), ['memory:read', 'ops:destructive']);
    assert.ok((await listTools(t.url, aToken.access_token)).includes('ops__memory_delete'));

    // …until the operator lowers the role: the very next call, and the next refresh, are capped.
    const lowered = await runCli(['users', 'set-role', ada.name, 'member', '--data-dir', t.dataDir]);
    assert.equal(lowered.code, 0, lowered.stderr);
    assert.ok(!(await listTools(t.url, aToken.access_token)).includes('ops__memory_delete'));
    assert.equal((await callTool(t.url, aToken.access_token, 'ops__memory_delete', { id: 'x' })).status, 403);
    const capped = await refresh(a.client, aToken.refresh_token);
    assert.equal(capped.status, 200, JSON.stringify(capped.body));
    assert.equal(capped.body.scope, 'memory:read');

    // Raised again, the remembered consent applies without asking the person again.
    const raised = await runCli(['users', 'set-role', ada.name, 'admin', '--data-dir', t.dataDir]);
    assert.equal(raised.code, 0, raised.stderr);
    const restored = await refresh(a.client, capped.body.refresh_token);
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.deepEqual(String(restored.body.scope).split(' ').sort(), ['memory:read', 'ops:destructive']);
  });

  it('an API key owned by a member is capped to the role; one owned by an admin or by no person is not', async () => {
    const scopes = ['memory:read', 'ops:destructive', 'admin:audit', 'role:admin'];
    const members = (await t.key({ owner: mia.name, scopes })).key;
    const tools = await listTools(t.url, members);
    assert.ok(tools.includes('memory_search'), 'the member keeps what the role allows');
    assert.ok(!tools.includes('ops__memory_delete'));
    assert.equal((await callTool(t.url, members, 'ops__memory_delete', { id: 'x' })).status, 403);
    const audit = (key: string) =>
      fetch(new URL('/admin/audit', origin), { headers: { authorization: `Bearer ${key}` } });
    assert.equal((await audit(members)).status, 403, 'no admin scope through a member’s key');

    const admins = (await t.key({ owner: ada.name, scopes: ['admin:audit', 'ops:destructive'] })).key;
    assert.equal((await audit(admins)).status, 200);
    assert.ok((await listTools(t.url, admins)).includes('ops__memory_delete'));
    // A service key whose owner is no person keeps the scopes the operator gave it.
    const service = (await t.key({ owner: 'ci-bot', scopes })).key;
    assert.equal((await audit(service)).status, 200);
  });

  it('consents and role changes are recorded in the one audit chain, which verifies after the CLI wrote to it', async () => {
    const records = await t.audit.log.query({ limit: 10_000 });
    const consents = records.filter((r) => r.event === 'authorization');
    assert.ok(
      consents.some(
        (r) =>
          r.principal === mia.name &&
          r.reasons[0] === 'consent-granted' &&
          r.scope === 'memory:read ops:read',
      ),
      'a consent names who gave it and exactly what it gave',
    );
    assert.ok(consents.some((r) => r.principal === mia.name && r.reasons[0] === 'consent-refused'));
    const changes = records.filter((r) => r.event === 'admin' && r.reasons[0] === 'role-changed');
    assert.equal(changes.length, 2);
    assert.match(changes[0]!.principal ?? '', /^cli:/);
    assert.deepEqual(changes[0]!.args?.payload, { user: ada.name, role: 'member', previousRole: 'admin' });
    // The gateway kept writing after each CLI record, after it, not over it.
    const last = changes.at(-1)!;
    assert.ok(records.some((r) => r.seq > last.seq && r.event === 'tools-list'));
    const verify = await runCli(['audit', 'verify', '--data-dir', t.dataDir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });

  it('the CLI refuses unknown roles and people, with exit code 2 and the roles it knows', async () => {
    const add = await runCli(['users', 'add', 'zed', '--role', 'superuser', '--data-dir', t.dataDir]);
    assert.equal(add.code, 2);
    assert.match(add.stderr, /unknown role "superuser" \(known: admin, member\)/);
    assert.equal(await db.users.find('zed'), undefined, 'nothing was added');
    const set = await runCli(['users', 'set-role', mia.name, 'root', '--data-dir', t.dataDir]);
    assert.equal(set.code, 2);
    assert.match(set.stderr, /unknown role "root"/);
    assert.equal((await db.users.find(mia.name))?.role, 'member', 'the role is unchanged');
    const nobody = await runCli(['users', 'set-role', 'nobody', 'admin', '--data-dir', t.dataDir]);
    assert.equal(nobody.code, 2);
    assert.match(nobody.stderr, /no user named nobody/);
  });
});

describe('attack: the first-run admin key outlives its owner’s role', () => {
  let t: TestGateway;
  before(async () => {
    // A fresh data directory: the gateway initialises it and prints a first-run admin key.
    t = await startTestGateway();
  });
  after(() => t?.close());

  it('its owner is an admin person, and lowering that person’s role caps the key at its next request', async () => {
    const key = t.gw.firstRun?.adminKey;
    assert.ok(key, 'a first-run key was created');
    const db = openOAuthTables(t);
    try {
      const owner = await db.users.find('admin');
      assert.equal(owner?.role, 'admin');
      assert.equal(owner?.passwordHash, null, 'no password until the operator sets one');
    } finally {
      await db.close();
    }
    const audit = () =>
      fetch(new URL('/admin/audit', t.gw.url), { headers: { authorization: `Bearer ${key}` } });
    assert.equal((await audit()).status, 200);
    const lowered = await runCli(['users', 'set-role', 'admin', 'member', '--data-dir', t.dataDir]);
    assert.equal(lowered.code, 0, lowered.stderr);
    assert.equal((await audit()).status, 403);
  });
});

describe('attack: a federated person with no mapped role', () => {
  let idp: FakeIdp;
  let t: TestGateway;
  let cleanup: () => void;
  before(async () => {
    idp = await startFakeIdp([
      { sub: 'ann-1', email: 'ann@acme.example', emailVerified: true },
      { sub: 'bob-1', email: 'bob@acme.example', emailVerified: true },
    ]);
    const fed = federationEnv(idp, {
      PORTCULLIS_OAUTH__FEDERATION__SUBJECT_CLAIM: 'email',
      // Only ann is mapped to a role.
      PORTCULLIS_OAUTH__FEDERATION__ROLES: JSON.stringify([
        { claim: 'email', equals: 'ann@acme.example', role: 'member' },
      ]),
    });
    cleanup = fed.cleanup;
    t = await startTestGateway({ env: fed.env });
    idp.serve([idpClientFor(t.gw.url.origin)]);
  });
  after(async () => {
    await t?.close();
    await idp?.close();
    cleanup?.();
  });

  const federatedConsent = (account: string) =>
    federatedSignIn({ origin: t.gw.url.origin, mcpUrl: t.url, issuer: idp.issuer }, account, 'Federated app');

  it('may sign in but is offered nothing, and a forged Allow issues no code', async () => {
    const { person, page } = await federatedConsent('bob-1');
    assert.equal(page.res.status, 200, page.body.slice(0, 300));
    assert.match(page.body, /Your role does not allow/);
    assert.deepEqual(offered(page.body), []);
    const form = formOf(page.body);
    const forged = await person.go(form.action.replace(/\/abort$/, '/confirm'), {
      form: { csrf: form.csrf },
    });
    const callback = new URL(forged.url);
    assert.equal(callback.searchParams.get('code'), null);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
  });

  it('a person the mapping names gets their role’s scopes', async () => {
    const { person, client, verifier, page } = await federatedConsent('ann-1');
    assert.deepEqual(offered(page.body).sort(), ['memory:read', 'memory:write']);
    const form = formOf(page.body);
    const done = await person.go(form.action, { form: { csrf: form.csrf } });
    const code = new URL(done.url).searchParams.get('code');
    assert.ok(code, done.url);
    const token = await tokenRequest(t.gw.url.origin, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      code_verifier: verifier,
      resource: t.url,
    });
    assert.equal(token.status, 200);
    assert.deepEqual(String(token.body.scope).split(' ').sort(), ['memory:read', 'memory:write']);
  });
});
