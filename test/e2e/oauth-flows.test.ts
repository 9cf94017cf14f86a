import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { revokeClient } from '../../src/oauth/index.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import {
  addClient,
  addUser,
  authorizationRequest,
  codeFlow,
  openOAuthTables,
  registerClient,
  tokenRequest,
} from '../helpers/oauth-gateway.js';

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const save = {
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'memory_save', arguments: { content: 'x' } },
};
const alice = { name: 'alice', password: 'correct horse' };
const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

describe('OAuth flows', () => {
  let t: TestGateway;
  let db: OAuthDatabase;
  let origin: string;
  let resource: string;
  before(async () => {
    t = await startTestGateway({ env: { PORTCULLIS_RATE_LIMITS__FAILED_AUTH__POINTS: '10000' } });
    origin = t.gw.url.origin;
    resource = t.url;
    db = openOAuthTables(t);
    await addUser(db, 'alice', 'correct horse');
  });
  after(async () => {
    await db.close();
    await t.close();
  });

  describe('client credentials for server-to-server clients', () => {
    it('client_secret_basic gets a token limited to the client’s scopes, and a wrong secret gets nothing', async () => {
      const c = await addClient(db, { grant: 'client_credentials', scopes: ['memory:read'] });
      const ok = await tokenRequest(
        origin,
        { grant_type: 'client_credentials', scope: 'memory:read memory:write', resource },
        basic(c.clientId, c.clientSecret!),
      );
      assert.equal(ok.status, 200);
      assert.equal(ok.body.scope, 'memory:read');
      assert.equal(ok.body.refresh_token, undefined);
      assert.equal((await postMcp(t.url, list, { key: ok.body.access_token })).status, 200);
      assert.equal((await postMcp(t.url, save, { key: ok.body.access_token })).status, 403);
      const bad = await tokenRequest(
        origin,
        { grant_type: 'client_credentials', resource },
        basic(c.clientId, 'wrong'),
      );
      assert.equal(bad.status, 401);
      assert.equal(bad.body.error, 'invalid_client');
    });

    it('private_key_jwt authenticates with a signed assertion and never a shared secret', async () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      const c = await addClient(db, {
        grant: 'client_credentials',
        authMethod: 'private_key_jwt',
        jwks: { keys: [jwk] },
        scopes: ['memory:read', 'memory:write'],
      });
      assert.equal(c.clientSecret, undefined);
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(c.clientId)
        .setSubject(c.clientId)
        .setAudience(`${origin}/oauth`)
        .setJti(randomBytes(12).toString('hex'))
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(privateKey);
      const params = {
        grant_type: 'client_credentials',
        scope: 'memory:write',
        resource,
        client_id: c.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      };
      const res = await tokenRequest(origin, params);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const called = await readRpc(await postMcp(t.url, save, { key: res.body.access_token }));
      assert.equal(called.result.isError, undefined);
      const replay = await tokenRequest(origin, params);
      assert.equal(replay.status, 401, 'the same assertion is refused the second time');
    });
  });

  describe('the authorization code flow', () => {
    it('puts iss in the authorization response (RFC 9207) and binds the token to the MCP URL', async () => {
      const client = await registerClient(origin);
      const tokens = await codeFlow(origin, new TestBrowser(origin), client, {
        scope: 'memory:read',
        resource,
        person: alice,
      });
      assert.equal(tokens.callback.searchParams.get('iss'), `${origin}/oauth`);
      assert.equal((await postMcp(t.url, list, { key: tokens.access_token })).status, 200);
    });

    it('refuses a missing PKCE challenge, the plain method, implicit and password grants', async () => {
      const client = await registerClient(origin);
      const browser = new TestBrowser(origin);
      const cases: Record<string, string>[] = [
        { code_challenge: '' },
        { code_challenge_method: 'plain' },
        { response_type: 'token' },
      ];
      for (const extra of cases) {
        const { url } = authorizationRequest(origin, client, { scope: 'memory:read', resource, extra });
        const page = await browser.navigate(url);
        const target = new URL(page.url);
        const answer = new URLSearchParams(target.hash.slice(1));
        const error =
          target.searchParams.get('error') ??
          answer.get('error') ??
          /Error code: <span class="mono">([^<]+)/.exec(page.body)?.[1];
        assert.ok(
          ['invalid_request', 'unsupported_response_type', 'unauthorized_client'].includes(error ?? ''),
          `${JSON.stringify(extra)} gave ${error}`,
        );
        assert.equal(target.searchParams.get('code') ?? answer.get('access_token'), null);
      }
      const password = await tokenRequest(origin, {
        grant_type: 'password',
        username: 'alice',
        password: 'correct horse',
        client_id: client.clientId,
      });
      assert.equal(password.body.error, 'unsupported_grant_type');
    });

    it('matches redirect URIs exactly and never redirects to an unregistered one', async () => {
      const client = await registerClient(origin);
      const browser = new TestBrowser(origin);
      for (const redirectUri of [
        `${client.redirectUri}/extra`,
        `${client.redirectUri}?x=1`,
        client.redirectUri.replace('127.0.0.1', 'localhost'),
        'https://attacker.example/callback',
      ]) {
        const { url } = authorizationRequest(
          origin,
          { ...client, redirectUri },
          { scope: 'memory:read', resource },
        );
        const page = await browser.navigate(url);
        assert.equal(new URL(page.url).origin, origin, `no redirect for ${redirectUri}`);
        assert.equal(page.res.status, 400);
        assert.match(page.body, /invalid_redirect_uri|redirect_uri/);
      }
    });

    it('refuses any resource but the MCP URL with invalid_target', async () => {
      const client = await registerClient(origin);
      const { url } = authorizationRequest(origin, client, {
        scope: 'memory:read',
        resource: 'https://other.example/mcp',
      });
      const page = await new TestBrowser(origin).navigate(url);
      assert.equal(new URL(page.url).searchParams.get('error'), 'invalid_target');
    });

    it('rotates refresh tokens, and reusing an old one revokes the whole grant', async () => {
      const client = await registerClient(origin);
      const first = await codeFlow(origin, new TestBrowser(origin), client, {
        scope: 'memory:read offline_access',
        resource,
        person: alice,
      });
      const refresh = (token: string) =>
        tokenRequest(origin, {
          grant_type: 'refresh_token',
          refresh_token: token,
          client_id: client.clientId,
          resource,
        });
      const second = await refresh(first.refresh_token);
      assert.equal(second.status, 200);
      assert.notEqual(second.body.refresh_token, first.refresh_token);
      assert.equal((await postMcp(t.url, list, { key: second.body.access_token })).status, 200);

      const reuse = await refresh(first.refresh_token);
      assert.equal(reuse.body.error, 'invalid_grant');
      // The whole grant is gone: the newest refresh token and the access token with it.
      assert.equal((await refresh(second.body.refresh_token)).body.error, 'invalid_grant');
      assert.equal((await postMcp(t.url, list, { key: second.body.access_token })).status, 401);
    });

    it('steps up after 403 insufficient_scope, although the client registered with a narrower scope', async () => {
      // MCP clients register with the scope of the first challenge.
      const client = await registerClient(origin, { scope: 'memory:read' });
      const browser = new TestBrowser(origin);
      const first = await codeFlow(origin, browser, client, {
        scope: 'memory:read',
        resource,
        person: alice,
      });
      const denied = await postMcp(t.url, save, { key: first.access_token });
      assert.equal(denied.status, 403);
      const challenge = denied.headers.get('www-authenticate')!;
      assert.match(challenge, /error="insufficient_scope"/);
      assert.match(challenge, /scope="memory:write"/);
      assert.match(challenge, /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/);

      // The consent page asks only for what is new; what was granted is remembered.
      const { url } = authorizationRequest(origin, client, { scope: 'memory:read memory:write', resource });
      const consent = await browser.navigate(url);
      assert.match(consent.body, /Save new notes for you/);
      assert.doesNotMatch(consent.body, /Read and search your saved notes/);
      const stepped = await codeFlow(origin, browser, client, {
        scope: 'memory:read memory:write',
        resource,
        person: alice,
      });
      assert.equal(stepped.scope.split(' ').sort().join(' '), 'memory:read memory:write');
      const saved = await readRpc(await postMcp(t.url, save, { key: stepped.access_token }));
      assert.equal(saved.result.isError, undefined);
    });
  });

  describe('revocation stops the very next call', () => {
    it('RFC 7009 revocation of the refresh token, and introspection (RFC 7662) reflects it', async () => {
      const client = await registerClient(origin);
      const tokens = await codeFlow(origin, new TestBrowser(origin), client, {
        scope: 'memory:read offline_access',
        resource,
        person: alice,
      });
      const introspect = async () => {
        const res = await fetch(`${origin}/oauth/token/introspection`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: tokens.refresh_token, client_id: client.clientId }),
        });
        return (await res.json()) as { active: boolean; sub?: string };
      };
      const active = await introspect();
      assert.equal(active.active, true);
      assert.equal(active.sub, 'alice');
      assert.equal((await postMcp(t.url, list, { key: tokens.access_token })).status, 200);
      const res = await fetch(`${origin}/oauth/token/revocation`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.refresh_token, client_id: client.clientId }),
      });
      assert.equal(res.status, 200);
      assert.equal((await introspect()).active, false);
      assert.equal((await postMcp(t.url, list, { key: tokens.access_token })).status, 401);
    });

    it('revoking a client from another process (the CLI) stops its tokens', async () => {
      const c = await addClient(db, { grant: 'client_credentials', scopes: ['memory:read'] });
      const token = await tokenRequest(
        origin,
        { grant_type: 'client_credentials', scope: 'memory:read', resource },
        basic(c.clientId, c.clientSecret!),
      );
      assert.equal((await postMcp(t.url, list, { key: token.body.access_token })).status, 200);
      assert.equal(await revokeClient(db.oauth, c.clientId, new Date()), true);
      assert.equal((await postMcp(t.url, list, { key: token.body.access_token })).status, 401);
      const again = await tokenRequest(
        origin,
        { grant_type: 'client_credentials', scope: 'memory:read', resource },
        basic(c.clientId, c.clientSecret!),
      );
      assert.equal(again.body.error, 'invalid_client');
    });

    it('a person disconnecting an app on the connected-apps page', async () => {
      const client = await registerClient(origin, { client_name: 'Disconnect me' });
      const browser = new TestBrowser(origin);
      const tokens = await codeFlow(origin, browser, client, {
        scope: 'memory:read',
        resource,
        person: alice,
      });
      assert.equal((await postMcp(t.url, list, { key: tokens.access_token })).status, 200);

      // The login during the flow also signed the browser in to the account pages.
      const apps = await browser.navigate('/account');
      assert.match(apps.body, /Disconnect me/);
      const row = apps.body.slice(apps.body.indexOf('Disconnect me'));
      const { csrf, action } = formOf(row);
      assert.match(action, /^\/account\/apps\/[^/]+\/revoke$/);
      const done = await browser.navigate(action, { form: { csrf } });
      assert.match(done.body, /Disconnected/);
      assert.doesNotMatch(done.body, /Disconnect me/);
      assert.equal((await postMcp(t.url, list, { key: tokens.access_token })).status, 401);
    });
  });

  describe('dynamic client registration', () => {
    it('the registered scope is not a ceiling, and the secret of a confidential client is never stored', async () => {
      const reg = await registerClient(origin, { token_endpoint_auth_method: 'client_secret_basic' });
      assert.ok(reg.response.client_secret);
      const [stored] = (await db.oauth.listClients()).filter((m) => m.client_id === reg.clientId);
      assert.match(String(stored!.client_secret), /^sha256\$/);
    });
  });
});
