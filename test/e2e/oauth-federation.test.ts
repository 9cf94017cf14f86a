import assert from 'node:assert/strict';
import fs from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { startFakeIdp, type FakeIdp, type IdTokenForgery } from '../helpers/fake-idp.js';
import { postMcp, readRpc, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { FederatedBrowser, IDP_CLIENT, IDP_SECRET } from '../helpers/federated-browser.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import {
  authorizationRequest,
  openOAuthTables,
  registerClient,
  tokenRequest,
} from '../helpers/oauth-gateway.js';

const accounts = [
  { sub: 'ann-1', email: 'ann@acme.example', emailVerified: true },
  { sub: 'mal-1', email: 'mallory@evil.example', emailVerified: true },
  { sub: 'eve-1', email: 'eve@acme.example', emailVerified: false },
];

describe('federated login through the operator’s OIDC identity provider', () => {
  let idp: FakeIdp;
  let t: TestGateway;
  let db: OAuthDatabase;
  let origin: string;
  let secretDir: string;
  const logs: { msg?: string; reason?: string; err?: { message?: string } }[] = [];

  before(async () => {
    idp = await startFakeIdp(accounts);
    secretDir = tempDir();
    const secretFile = path.join(secretDir, 'idp-secret');
    fs.writeFileSync(secretFile, `${IDP_SECRET}\n`, { mode: 0o600 });
    t = await startTestGateway({
      env: {
        PORTCULLIS_OAUTH__FEDERATION__ISSUER: idp.issuer,
        PORTCULLIS_OAUTH__FEDERATION__CLIENT_ID: IDP_CLIENT,
        PORTCULLIS_OAUTH__FEDERATION__CLIENT_SECRET: `file:${secretFile}`,
        PORTCULLIS_OAUTH__FEDERATION__DISPLAY_NAME: 'Acme SSO',
        PORTCULLIS_OAUTH__FEDERATION__SUBJECT_CLAIM: 'email',
        PORTCULLIS_OAUTH__FEDERATION__ALLOWED_DOMAINS: 'acme.example',
        // Everyone the IdP verified is a member (a person no rule matches gets no tool scopes).
        PORTCULLIS_OAUTH__FEDERATION__ROLES: '[{"claim":"email_verified","equals":true,"role":"member"}]',
        // The IdP is deliberately internal and on plain http: exactly this address, nothing more.
        PORTCULLIS_OAUTH__FEDERATION__ALLOW_ADDRESSES: '127.0.0.1/32',
        PORTCULLIS_OAUTH__FEDERATION__ALLOW_HTTP: 'true',
      },
      logger: pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) }),
    });
    origin = t.gw.url.origin;
    idp.serve([
      {
        client_id: IDP_CLIENT,
        client_secret: IDP_SECRET,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [`${origin}/oauth/federation/callback`],
      },
    ]);
    db = openOAuthTables(t);
  });
  after(async () => {
    await db?.close();
    await t?.close();
    await idp?.close();
    if (secretDir) fs.rmSync(secretDir, { recursive: true, force: true });
  });

  const refused = () => logs.filter((l) => l.msg === 'federated login refused');
  const refusals = () => refused().map((l) => l.reason);

  /**
   * An MCP client's authorization request, our login page, the "Acme SSO" button, the IdP's
   * login as `account`; stops where the IdP sends the browser back to our callback.
   */
  async function toCallback(person = new FederatedBrowser(origin, idp.issuer), account = 'ann-1') {
    const client = await registerClient(origin, { client_name: 'Federated app' });
    const request = authorizationRequest(origin, client, {
      scope: 'memory:read memory:write',
      resource: t.url,
    });
    const login = await person.go(request.url);
    assert.equal(login.res.status, 200);
    const button = /<a class="button secondary grow" href="([^"]+)">Acme SSO<\/a>/.exec(login.body);
    assert.ok(button, 'the login page offers the identity provider');
    const idpPage = await person.go(button[1]!);
    assert.ok(idpPage.url.startsWith(idp.issuer), `at the IdP: ${idpPage.url}`);
    const action = /<form method="post" action="([^"]+)"/.exec(idpPage.body)![1]!;
    const back = await person.go(new URL(action, idp.issuer).href, {
      form: { account },
      stopBefore: (next) => next.pathname === '/oauth/federation/callback',
    });
    const callback = new URL(back.url);
    assert.equal(callback.origin + callback.pathname, `${origin}/oauth/federation/callback`);
    return { person, client, verifier: request.verifier, callback };
  }

  it('signs a person in at the IdP, asks for consent, and the token calls tools as the mapped email', async () => {
    const { person, client, verifier, callback } = await toCallback();
    const consent = await person.go(callback.href);
    assert.equal(consent.res.status, 200, consent.body.slice(0, 300));
    assert.match(consent.body, /Federated app/);
    const form = formOf(consent.body);
    assert.match(form.action, /\/confirm$/, 'signed in: the next page asks for consent');
    const done = await person.go(form.action, { form: { csrf: form.csrf } });
    const code = new URL(done.url).searchParams.get('code');
    assert.ok(code, `the app got a code: ${done.url}`);

    const token = await tokenRequest(origin, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      code_verifier: verifier,
      resource: t.url,
    });
    assert.equal(token.status, 200);
    const call = await postMcp(
      t.url,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'memory_save', arguments: { content: 'federated note' } },
      },
      { key: token.body.access_token },
    );
    assert.equal(call.status, 200);
    const rpc = await readRpc(call);
    assert.equal(rpc.result?.isError, undefined, JSON.stringify(rpc));

    const records = await t.audit.log.query({ principal: 'ann@acme.example', limit: 10 });
    assert.ok(
      records.some((r) => r.tool === 'memory_save' && r.outcome === 'ok' && r.authMethod === 'oauth'),
      JSON.stringify(records),
    );
    assert.ok(
      records.some((r) => r.event === 'authentication' && r.reasons[0] === 'login-succeeded'),
      'the federated sign-in is in the audit chain',
    );
    const user = await db.users.find('ann@acme.example');
    assert.equal(user?.federatedIssuer, idp.issuer);
    assert.equal(user?.federatedSubject, 'ann-1');
    assert.equal(user?.passwordHash, null, 'a federated account has no password here');
  });

  it('refuses an account whose email domain is not allowed, with a clear page and no account', async () => {
    const { person, callback } = await toCallback(undefined, 'mal-1');
    const page = await person.go(callback.href);
    assert.equal(page.res.status, 403);
    assert.match(page.body, /Your organisation is not allowed to sign in here/);
    assert.ok(page.url.startsWith(origin), 'the browser never reaches the app with a code');
    assert.equal(await db.users.find('mallory@evil.example'), undefined);
    assert.equal(refusals().at(-1), 'federation-domain-not-allowed');
    const [last] = (await t.audit.log.query({ limit: 1000 }))
      .filter((r) => r.event === 'authentication')
      .slice(-1);
    assert.deepEqual([last?.reasons, last?.errorCode], [['login-failed'], 'federation-domain-not-allowed']);
  });

  it('refuses an address in an allowed domain that the IdP has not verified', async () => {
    const { person, callback } = await toCallback(undefined, 'eve-1');
    const page = await person.go(callback.href);
    assert.equal(page.res.status, 403);
    assert.match(page.body, /Signing in with your organisation did not work/);
    assert.equal(await db.users.find('eve@acme.example'), undefined);
    assert.equal(refusals().at(-1), 'federation-email-unverified');
  });

  it('refuses a tampered state, a callback in another browser, and a replayed callback', async () => {
    const { person, callback } = await toCallback();
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${callback.searchParams.get('state')}x`);
    const forged = await person.go(tampered.href);
    assert.equal(forged.res.status, 403);
    assert.match(forged.body, /Signing in with your organisation did not work/);

    // Login CSRF: the attacker's own callback planted in a victim's browser has no state cookie.
    const victim = await new FederatedBrowser(origin, idp.issuer).go(callback.href);
    assert.equal(victim.res.status, 403);
    assert.equal(refusals().at(-1), 'federation-state-invalid');

    const genuine = await person.go(callback.href);
    assert.equal(genuine.res.status, 200, 'neither forgery used up the genuine state');
    const replay = await person.go(callback.href);
    assert.equal(replay.res.status, 403);
    assert.equal(refusals().at(-1), 'federation-state-invalid');
  });

  describe('ID tokens the gateway did not ask for', () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    after(() => idp.forgeIdTokens());

    const forgeries: [string, IdTokenForgery, RegExp][] = [
      ['another client at the same IdP', (c) => ({ claims: { ...c, aud: 'other-app' } }), /"aud"/],
      ['another issuer', (c) => ({ claims: { ...c, iss: 'http://127.0.0.1:1' } }), /"iss"/],
      ['a key that is not the IdP’s', (c) => ({ claims: c, key: stranger }), /signature verification failed/],
    ];
    for (const [name, forgery, why] of forgeries) {
      it(`refuses an ID token from ${name}`, async () => {
        const { person, callback } = await toCallback();
        idp.forgeIdTokens(forgery);
        try {
          const page = await person.go(callback.href);
          assert.equal(page.res.status, 403, page.body.slice(0, 300));
          assert.match(page.body, /Signing in with your organisation did not work/);
          assert.equal(refusals().at(-1), 'federation-exchange-failed');
          assert.match(refused().at(-1)?.err?.message ?? '', why);
        } finally {
          idp.forgeIdTokens();
        }
      });
    }
  });
});

describe('federated login misconfigured or with the identity provider unreachable', () => {
  let t: TestGateway;
  before(async () => {
    // A port that was free a moment ago: nothing answers there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    t = await startTestGateway({
      env: {
        PORTCULLIS_OAUTH__FEDERATION__ISSUER: `http://127.0.0.1:${port}`,
        PORTCULLIS_OAUTH__FEDERATION__CLIENT_ID: IDP_CLIENT,
        PORTCULLIS_OAUTH__FEDERATION__CLIENT_SECRET: 'env:PORTCULLIS_IDP_SECRET',
        PORTCULLIS_IDP_SECRET: IDP_SECRET,
        PORTCULLIS_OAUTH__FEDERATION__ALLOW_ADDRESSES: '127.0.0.1/32',
        PORTCULLIS_OAUTH__FEDERATION__ALLOW_HTTP: 'true',
      },
    });
  });
  after(() => t?.close());

  it('shows a page saying the identity provider cannot be reached, not a server error', async () => {
    const origin = t.gw.url.origin;
    const client = await registerClient(origin);
    const person = new TestBrowser(origin);
    const { url } = authorizationRequest(origin, client, { scope: 'memory:read', resource: t.url });
    const login = await person.navigate(url);
    const button = /href="([^"]+\/federated)"/.exec(login.body);
    assert.ok(button);
    const page = await person.navigate(button[1]!);
    assert.equal(page.res.status, 503);
    assert.match(page.body, /The identity provider cannot be reached right now/);
  });

  it('refuses to start when a role rule names a role that does not exist', async () => {
    const dataDir = tempDir();
    try {
      await assert.rejects(
        startTestGateway({
          dataDir,
          env: {
            PORTCULLIS_OAUTH__FEDERATION__ISSUER: 'https://login.example.com/realms/acme',
            PORTCULLIS_OAUTH__FEDERATION__CLIENT_ID: IDP_CLIENT,
            PORTCULLIS_OAUTH__FEDERATION__CLIENT_SECRET: 'env:PORTCULLIS_IDP_SECRET',
            PORTCULLIS_IDP_SECRET: IDP_SECRET,
            PORTCULLIS_OAUTH__FEDERATION__ROLES: '[{"claim":"groups","equals":"ops","role":"superuser"}]',
          },
        }),
        /oauth\.federation\.roles\.0\.role: unknown role "superuser" \(known: admin, member\)/,
      );
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start when the client secret reference cannot be resolved', async () => {
    const dataDir = tempDir();
    try {
      await assert.rejects(
        startTestGateway({
          dataDir,
          env: {
            PORTCULLIS_OAUTH__FEDERATION__ISSUER: 'https://login.example.com/realms/acme',
            PORTCULLIS_OAUTH__FEDERATION__CLIENT_ID: IDP_CLIENT,
            PORTCULLIS_OAUTH__FEDERATION__CLIENT_SECRET: 'env:PORTCULLIS_IDP_SECRET',
          },
        }),
        /Secret env:PORTCULLIS_IDP_SECRET is not set/,
      );
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
