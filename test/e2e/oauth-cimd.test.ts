import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { TestOAuthProvider } from '../helpers/oauth-client.js';
import { addUser, authorizationRequest, openOAuthTables } from '../helpers/oauth-gateway.js';
import { startHttpsServer, trustTestCertificate } from '../helpers/oauth-tls.js';

const REDIRECT = 'http://127.0.0.1:1/callback';

/**
 * Client ID Metadata Documents: the client_id is an https URL whose document the gateway fetches
 * through the egress guard. Loopback is an internal address, so the document server is reachable
 * only through the explicit test allowance `oauth.clientFetch.allowAddresses`.
 */
describe('Client ID Metadata Documents', () => {
  let t: TestGateway;
  let strict: TestGateway;
  let db: OAuthDatabase;
  let docs: Awaited<ReturnType<typeof startHttpsServer>>;
  const documents = new Map<string, unknown>();

  before(async () => {
    trustTestCertificate();
    docs = await startHttpsServer((url) => {
      if (url.pathname === '/huge.json')
        return { status: 200, body: JSON.stringify({ pad: 'x'.repeat(20_000) }) };
      const doc = documents.get(url.pathname);
      return doc ? { status: 200, body: JSON.stringify(doc) } : { status: 404, body: '{}' };
    });
    t = await startTestGateway({
      config: 'oauth:\n  clientFetch:\n    allowAddresses: ["127.0.0.1/32", "::1/128"]\n',
    });
    strict = await startTestGateway();
    db = openOAuthTables(t);
    await addUser(db, 'alice', 'correct horse');
  });
  after(async () => {
    await db.close();
    await t.close();
    await strict.close();
    await docs.close();
  });

  const publish = (name: string, over: Record<string, unknown> = {}) => {
    const clientId = `${docs.origin}/${name}.json`;
    documents.set(`/${name}.json`, {
      client_id: clientId,
      client_name: 'Metadata app',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...over,
    });
    return clientId;
  };

  it('the metadata advertises client_id_metadata_document_supported', async () => {
    const meta = (await (
      await fetch(`${t.gw.url.origin}/.well-known/oauth-authorization-server/oauth`)
    ).json()) as any;
    assert.equal(meta.client_id_metadata_document_supported, true);
  });

  it('an SDK v2 client with a metadata URL skips registration and completes the flow', async () => {
    const clientId = publish('sdk');
    const provider = new TestOAuthProvider({ redirectUrl: REDIRECT, clientMetadataUrl: clientId });
    const first = new TransportV2(new URL(t.url), { authProvider: provider });
    await assert.rejects(new ClientV2({ name: 'cimd', version: '1' }).connect(first), /nauthori[sz]ed/i);
    assert.equal(provider.authorizationUrl!.searchParams.get('client_id'), clientId);
    const browser = new TestBrowser(t.gw.url.origin);
    const consent = await browser.navigate(provider.authorizationUrl!.href);
    assert.ok(docs.hits.includes('/sdk.json'), 'the document was fetched');
    assert.equal(new URL(consent.url).origin, t.gw.url.origin);
    const callback = await browser.authorize(provider.authorizationUrl!.href, {
      name: 'alice',
      password: 'correct horse',
    });
    await first.finishAuth(callback.searchParams.get('code')!, callback.searchParams.get('iss') ?? undefined);
    const client = new ClientV2({ name: 'cimd', version: '1' });
    await client.connect(new TransportV2(new URL(t.url), { authProvider: provider }));
    const { tools } = await client.listTools();
    assert.ok(tools.length > 0);
    await client.close();
    const grants = await db.oauth.listGrants({ accountId: 'alice' }, new Date());
    assert.ok(grants.some((g) => g.clientId === clientId));
  });

  it('the first use of a metadata document is recorded once as a client registration', async () => {
    const clientId = publish('audited');
    for (let i = 0; i < 2; i++) {
      const { url } = authorizationRequest(
        t.gw.url.origin,
        { clientId, redirectUri: REDIRECT },
        { scope: 'memory:read', resource: t.url },
      );
      assert.equal((await new TestBrowser(t.gw.url.origin).navigate(url)).res.status, 200);
    }
    const records = (await t.audit.log.query({ limit: 100_000 })).filter(
      (r) => r.event === 'admin' && r.clientId === clientId,
    );
    assert.deepEqual(
      records.map((r) => [r.reasons, r.decision, r.outcome]),
      [[['client-registered'], 'allow', 'ok']],
    );
  });

  const refused = async (gw: TestGateway, clientId: string) => {
    const { url } = authorizationRequest(
      gw.gw.url.origin,
      { clientId, redirectUri: REDIRECT },
      { scope: 'memory:read', resource: gw.url },
    );
    const page = await new TestBrowser(gw.gw.url.origin).navigate(url);
    assert.equal(
      new URL(page.url).origin,
      gw.gw.url.origin,
      'never redirected to the document’s redirect URI',
    );
    assert.equal(page.res.status, 400);
    assert.match(page.body, /invalid_client|invalid_request/);
  };

  it('refuses documents on internal addresses by default (SSRF)', async () => {
    const before = docs.hits.length;
    await refused(strict, publish('internal'));
    assert.equal(docs.hits.length, before, 'no request reached the internal server');
  });

  it('refuses documents that carry a secret, name another client_id, or are too large', async () => {
    await refused(
      t,
      publish('secret', { client_secret: 'shh', token_endpoint_auth_method: 'client_secret_basic' }),
    );
    await refused(t, publish('mismatch', { client_id: 'https://elsewhere.example/app.json' }));
    await refused(t, `${docs.origin}/huge.json`);
    await refused(t, `${docs.origin}/missing.json`);
  });
});
