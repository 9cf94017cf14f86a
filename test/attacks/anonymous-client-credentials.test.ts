import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, importJWK, SignJWT } from 'jose';
import { hashClientSecret } from '../../src/oauth/client-secret.js';
import { openSqliteOAuthDatabase } from '../../src/oauth/index.js';
import {
  productionConfig,
  startInstalledGateway,
  type InstalledGateway,
} from '../helpers/default-install.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { authorizationRequest, codeFlow, registerClient, tokenRequest } from '../helpers/oauth-gateway.js';
import { startHttpsServer, trustTestCertificate } from '../helpers/oauth-tls.js';

/**
 * Finding 1 (critical): anyone who could reach a default install registered a client with
 * `grant_types: ["client_credentials"]`, took a token for every tool scope at the token endpoint
 * and called `memory_save` with no person anywhere. Client credentials are for clients an
 * operator created; every other way to hold such a token is refused, at registration, at the
 * token endpoint, and again at the resource server.
 */

const ALL_SCOPES = 'memory:read memory:write memory:delete web:fetch';
const save = (content: string) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'memory_save', arguments: { content } },
});
const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});
const person = { name: 'alice', password: 'correct horse battery' };

/**
 * The attack end to end: register, take a client-credentials token, save a note. Returns how far
 * it got, so a failure says which step let it through.
 */
async function anonymousSave(gw: InstalledGateway, metadata: Record<string, unknown>) {
  const reg = await fetch(`${gw.origin}/oauth/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  const registration = { status: reg.status, body: (await reg.json()) as any };
  if (reg.status !== 201) return { registration };
  const { client_id: id, client_secret: secret } = registration.body;
  const token = await tokenRequest(
    gw.origin,
    { grant_type: 'client_credentials', scope: ALL_SCOPES, resource: gw.url },
    basic(id, secret),
  );
  if (token.status !== 200) return { registration, token };
  const call = await postMcp(gw.url, save('written by nobody'), { key: token.body.access_token });
  return { registration, token, call: { status: call.status, body: await readRpc(call) } };
}

/** Signs an access token with the gateway's own signing key: a token minted "some other way". */
async function mintWithGatewayKey(gw: InstalledGateway, claims: Record<string, unknown>) {
  const stored = JSON.parse(fs.readFileSync(path.join(gw.dataDir, 'keys', 'signing-keys.json'), 'utf8'))
    .keys[0];
  const key = await importJWK({ ...stored, createdAt: undefined }, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: `${gw.origin}/oauth`,
    aud: gw.url,
    jti: randomUUID(),
    iat: now,
    exp: now + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: stored.kid })
    .sign(key);
}

const SETUPS = [
  { name: 'a default install (portcullis start, nothing configured)', config: undefined },
  { name: 'the documented production configuration (TLS on the listener)', config: productionConfig },
] as const;

for (const setup of SETUPS) {
  describe(`anonymous client credentials against ${setup.name}`, () => {
    let gw: InstalledGateway;
    before(async () => {
      trustTestCertificate();
      gw = await startInstalledGateway(setup.config ? { config: setup.config() } : {});
      const added = await gw.cli(['users', 'add', person.name, '--password-stdin'], `${person.password}\n`);
      assert.equal(added.code, 0, added.stderr);
    });
    after(() => gw.close());

    it('a self-registered client asking for client_credentials is refused at registration', async () => {
      for (const metadata of [
        { grant_types: ['client_credentials'], response_types: [] },
        {
          grant_types: ['authorization_code', 'client_credentials'],
          redirect_uris: ['https://app.example/callback'],
        },
      ]) {
        const attempt = await anonymousSave(gw, {
          application_type: 'web',
          client_name: 'Free tokens',
          token_endpoint_auth_method: 'client_secret_basic',
          ...metadata,
        });
        assert.equal(attempt.registration.status, 400, `the attack got this far: ${JSON.stringify(attempt)}`);
        assert.equal(attempt.registration.body.error, 'invalid_client_metadata');
        assert.match(attempt.registration.body.error_description, /client_credentials/);
      }
    });

    it('a registrant cannot mark itself operator-created', async () => {
      const attempt = await anonymousSave(gw, {
        application_type: 'web',
        client_name: 'Operator, honest',
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        portcullis_created_by: 'operator',
        portcullis_scopes: ['memory:write'],
      });
      assert.equal(attempt.registration.status, 400, JSON.stringify(attempt));
      assert.equal(attempt.registration.body.error, 'invalid_client_metadata');
    });

    it('a client stored by an earlier, unguarded registration is refused the grant', async () => {
      // What a database attacked before this fix holds: a registered client with the grant.
      const db = openSqliteOAuthDatabase(path.join(gw.dataDir, 'portcullis.db'));
      const id = randomBytes(12).toString('base64url');
      const secret = randomBytes(32).toString('base64url');
      await db.oauth.upsert(
        'Client',
        id,
        {
          client_id: id,
          client_name: 'Registered last year',
          client_secret: hashClientSecret(secret),
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        null,
      );
      await db.close();
      const token = await tokenRequest(
        gw.origin,
        { grant_type: 'client_credentials', scope: ALL_SCOPES, resource: gw.url },
        basic(id, secret),
      );
      assert.equal(token.status, 400, JSON.stringify(token.body));
      assert.equal(token.body.error, 'invalid_request');
      assert.equal(token.body.error_description, 'requested grant type is not allowed for this client');
    });

    it('the resource server refuses a client-credentials token whose client no operator created', async () => {
      const reg = await registerClient(gw.origin, { client_name: 'Has no operator' });
      const forged = await mintWithGatewayKey(gw, {
        sub: reg.clientId,
        client_id: reg.clientId,
        scope: 'memory:write',
      });
      const refused = await postMcp(gw.url, save('minted elsewhere'), { key: forged });
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate')!, /error="invalid_token"/);

      // The same token shape for an operator's client is what the token endpoint issues: accepted.
      const created = await gw.cli([
        'clients',
        'create',
        '--name',
        'Nightly export',
        '--grant',
        'client_credentials',
        '--scopes',
        'memory:write',
        '--json',
      ]);
      const op = JSON.parse(created.stdout);
      const minted = await mintWithGatewayKey(gw, {
        sub: op.client_id,
        client_id: op.client_id,
        scope: 'memory:write',
      });
      const ok = await postMcp(gw.url, save('from the nightly job'), { key: minted });
      assert.equal(ok.status, 200);
      assert.equal((await readRpc(ok)).result.isError, undefined);
    });

    it('an operator-created client gets exactly the scopes its operator limited it to', async () => {
      const created = await gw.cli([
        'clients',
        'create',
        '--name',
        'Reporting job',
        '--grant',
        'client_credentials',
        '--scopes',
        'memory:read',
        '--json',
      ]);
      assert.equal(created.code, 0, created.stderr);
      const op = JSON.parse(created.stdout);
      const token = await tokenRequest(
        gw.origin,
        { grant_type: 'client_credentials', scope: ALL_SCOPES, resource: gw.url },
        basic(op.client_id, op.client_secret),
      );
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal(token.body.scope, 'memory:read');
      const tools = await readRpc(await postMcp(gw.url, list, { key: token.body.access_token }));
      assert.deepEqual(tools.result.tools.map((t: { name: string }) => t.name).sort(), [
        'memory_get',
        'memory_search',
      ]);
      const write = await postMcp(gw.url, save('not allowed'), { key: token.body.access_token });
      assert.equal(write.status, 403);
    });

    it('an operator client whose stored limit is missing gets no tool scope at all', async () => {
      // A hand-edited or damaged row: operator-created, but with no scope ceiling on record.
      const db = openSqliteOAuthDatabase(path.join(gw.dataDir, 'portcullis.db'));
      const id = `pcc_${randomBytes(12).toString('base64url')}`;
      const secret = randomBytes(32).toString('base64url');
      await db.oauth.upsert(
        'Client',
        id,
        {
          client_id: id,
          client_name: 'No ceiling',
          client_secret: hashClientSecret(secret),
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
          portcullis_created_by: 'operator',
        },
        null,
      );
      await db.close();
      const token = await tokenRequest(
        gw.origin,
        { grant_type: 'client_credentials', scope: ALL_SCOPES, resource: gw.url },
        basic(id, secret),
      );
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal(token.body.scope, undefined);
      const write = await postMcp(gw.url, save('no ceiling, no scope'), { key: token.body.access_token });
      assert.equal(write.status, 403);
    });

    it('a self-registered client still gets tokens through a person, with code and PKCE', async () => {
      const client = await registerClient(gw.origin, { client_name: 'Notes app' });
      const tokens = await codeFlow(gw.origin, new TestBrowser(gw.origin), client, {
        scope: 'memory:read memory:write',
        resource: gw.url,
        person,
      });
      const saved = await postMcp(gw.url, save('alice wrote this'), { key: tokens.access_token });
      assert.equal(saved.status, 200);
      assert.equal((await readRpc(saved)).result.isError, undefined);
    });
  });
}

/**
 * Client ID Metadata Documents are a second way in: the document is the registrant's own
 * assertion. Loopback is internal, so the document server is reachable only through the test
 * allowance `oauth.clientFetch.allowAddresses`.
 */
describe('anonymous client credentials through a Client ID Metadata Document', () => {
  let t: TestGateway;
  let docs: Awaited<ReturnType<typeof startHttpsServer>>;
  const documents = new Map<string, unknown>();
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  before(async () => {
    trustTestCertificate();
    docs = await startHttpsServer((url) => {
      const doc = documents.get(url.pathname);
      return doc ? { status: 200, body: JSON.stringify(doc) } : { status: 404, body: '{}' };
    });
    t = await startTestGateway({
      config: 'oauth:\n  clientFetch:\n    allowAddresses: ["127.0.0.1/32", "::1/128"]\n',
    });
  });
  after(async () => {
    await t.close();
    await docs.close();
  });

  const publish = (name: string, doc: Record<string, unknown>) => {
    const clientId = `${docs.origin}/${name}.json`;
    documents.set(`/${name}.json`, { client_id: clientId, client_name: 'Document app', ...doc });
    return clientId;
  };

  it('a document claiming client_credentials with its own key gets no token', async () => {
    const jwk = { ...(await exportJWK(attacker.publicKey)), kid: 'a1', alg: 'ES256', use: 'sig' };
    const clientId = publish('machine', {
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
    });
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'a1' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`${t.gw.url.origin}/oauth`)
      .setJti(randomBytes(12).toString('hex'))
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(attacker.privateKey);
    const token = await tokenRequest(t.gw.url.origin, {
      grant_type: 'client_credentials',
      scope: ALL_SCOPES,
      resource: t.url,
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    assert.notEqual(token.status, 200, `a token was issued: ${JSON.stringify(token.body)}`);
    assert.match(token.body.error, /^(invalid_client|unauthorized_client)$/);
  });

  it('a document cannot claim to be operator-created, while an ordinary document still works', async () => {
    const forged = publish('forged', {
      redirect_uris: ['http://127.0.0.1:1/callback'],
      token_endpoint_auth_method: 'none',
      portcullis_created_by: 'operator',
    });
    const refused = await new TestBrowser(t.gw.url.origin).navigate(
      authorizationRequest(
        t.gw.url.origin,
        { clientId: forged, redirectUri: 'http://127.0.0.1:1/callback' },
        { scope: 'memory:read', resource: t.url },
      ).url,
    );
    assert.equal(refused.res.status, 400);
    assert.match(refused.body, /invalid_client/);

    const honest = publish('honest', {
      redirect_uris: ['http://127.0.0.1:1/callback'],
      token_endpoint_auth_method: 'none',
    });
    const login = await new TestBrowser(t.gw.url.origin).navigate(
      authorizationRequest(
        t.gw.url.origin,
        { clientId: honest, redirectUri: 'http://127.0.0.1:1/callback' },
        { scope: 'memory:read', resource: t.url },
      ).url,
    );
    assert.equal(login.res.status, 200);
    assert.match(login.body, /Sign in/);
  });
});
