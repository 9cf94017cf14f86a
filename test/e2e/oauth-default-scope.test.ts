import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import {
  addClient,
  addUser,
  authorizationRequest,
  openOAuthTables,
  registerClient,
  tokenRequest,
  type PublicClient,
} from '../helpers/oauth-gateway.js';

/**
 * Finding 23: what the official conformance suite's `authorization-code-grant` scenario does —
 * a pre-registered public client with a loopback redirect, no `scope`, no `resource` — ended in
 * `error=access_denied` right after sign-in, with no consent page and no description. OAuth 2.1
 * §3.2.2.1 allows a documented default scope or `invalid_scope`, never a silent denial. The
 * authorization server metadata must also list the scopes the protected-resource metadata lists.
 */

const REDIRECT = 'http://127.0.0.1:1/callback';
const person = { name: 'alice', password: 'correct horse' };
const search = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'memory_search', arguments: { query: 'x' } },
};
const save = {
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'memory_save', arguments: { content: 'x' } },
};

describe('authorization requests that name no scope', () => {
  let t: TestGateway;
  let db: OAuthDatabase;
  let origin: string;
  before(async () => {
    t = await startTestGateway();
    origin = t.gw.url.origin;
    db = openOAuthTables(t);
    await addUser(db, person.name, person.password);
  });
  after(async () => {
    await db.close();
    await t.close();
  });

  const preRegistered = async (scopes: string[]): Promise<PublicClient> => {
    const c = await addClient(db, {
      grant: 'authorization_code',
      authMethod: 'none',
      redirectUris: [REDIRECT],
      scopes,
    });
    return { clientId: c.clientId, redirectUri: REDIRECT };
  };

  /** Signs in, returns the consent page and the code flow's verifier. */
  const signIn = async (browser: TestBrowser, client: PublicClient, scope?: string) => {
    const { url, verifier } = authorizationRequest(origin, client, { scope, resource: undefined });
    const login = await browser.navigate(url);
    const form = formOf(login.body);
    const page = await browser.navigate(form.action, { form: { csrf: form.csrf, ...person } });
    return { page, verifier };
  };

  it('a pre-registered public client gets the consent page for the default scope, then a token for it', async () => {
    const client = await preRegistered(['memory:read', 'memory:write']);
    const browser = new TestBrowser(origin);
    const { page, verifier } = await signIn(browser, client);
    assert.equal(new URL(page.url).origin, origin, `sent away without consent: ${page.url}`);
    assert.match(page.body, /Read and search your saved notes/);
    assert.doesNotMatch(page.body, /Save new notes for you/, 'only the default is asked for');
    const consent = formOf(page.body);
    const back = await browser.navigate(consent.action, { form: { csrf: consent.csrf } });
    const callback = new URL(back.url);
    assert.equal(callback.searchParams.get('error'), null, callback.href);
    const token = await tokenRequest(origin, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      client_id: client.clientId,
      code_verifier: verifier,
    });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal(token.body.scope, 'memory:read');
    const found = await postMcp(t.url, search, { key: token.body.access_token });
    assert.equal((await readRpc(found)).result.isError, undefined);
    assert.equal((await postMcp(t.url, save, { key: token.body.access_token })).status, 403);
  });

  it('a self-registered client gets the same documented default', async () => {
    const client = await registerClient(origin, { client_name: 'No scope app' });
    const { page } = await signIn(new TestBrowser(origin), client);
    assert.match(page.body, /Read and search your saved notes/);
  });

  it('a client whose limit holds no default scope is sent back with invalid_scope and a description', async () => {
    const client = await preRegistered(['memory:write']);
    const { url } = authorizationRequest(origin, client, { scope: undefined, resource: undefined });
    const back = new URL((await new TestBrowser(origin).navigate(url)).url);
    assert.equal(back.origin + back.pathname, REDIRECT);
    assert.equal(back.searchParams.get('error'), 'invalid_scope');
    assert.match(back.searchParams.get('error_description') ?? '', /names no scope/);
    assert.equal(back.searchParams.get('scope'), 'memory:write', 'the scopes it may ask for');
    assert.equal(back.searchParams.get('iss'), `${origin}/oauth`);
  });

  it('a request none of whose scopes exists here is answered invalid_scope, not a silent denial', async () => {
    const client = await preRegistered(['memory:read']);
    const { url } = authorizationRequest(origin, client, { scope: 'calendar:write', resource: undefined });
    const back = new URL((await new TestBrowser(origin).navigate(url)).url);
    assert.equal(back.searchParams.get('error'), 'invalid_scope');
    assert.match(back.searchParams.get('error_description') ?? '', /None of the requested scopes/);
  });

  it('a request with one unknown scope beside a known one is served the known one', async () => {
    const client = await preRegistered(['memory:read']);
    const { page } = await signIn(new TestBrowser(origin), client, 'memory:read calendar:write');
    assert.match(page.body, /Read and search your saved notes/);
  });

  it('the authorization server metadata lists every scope the protected-resource metadata lists', async () => {
    const prm = (await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).json()) as any;
    assert.ok(prm.scopes_supported.includes('memory:read'));
    for (const path of [
      '/.well-known/oauth-authorization-server/oauth',
      '/oauth/.well-known/openid-configuration',
    ]) {
      const meta = (await (await fetch(`${origin}${path}`)).json()) as any;
      for (const scope of prm.scopes_supported)
        assert.ok(meta.scopes_supported.includes(scope), `${path}: ${scope}`);
      assert.ok(meta.scopes_supported.includes('openid'));
    }
  });
});
