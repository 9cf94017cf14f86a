import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { postMcp, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import {
  addClient,
  addUser,
  codeFlow,
  openOAuthTables,
  tokenRequest,
  type PublicClient,
} from '../helpers/oauth-gateway.js';

/**
 * Rate-limit reset by token rotation: a client that has spent its per-credential budget asks for
 * a fresh access token (a refresh, or a whole new authorization) and carries on as if it were a
 * new caller. Limits are keyed by who is calling — the grant (OAuth client + person) or the API
 * key — not by the token they hold today. Another person keeps their own budget.
 */

const LIMIT = 3;
const search = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'memory_search', arguments: { query: 'anything' } },
});

describe('rate limits survive a fresh OAuth token', () => {
  let t: TestGateway;
  let db: OAuthDatabase;
  let origin: string;
  let client: PublicClient;
  const alice = { name: 'alice', password: 'correct horse battery' };
  const bob = { name: 'bob', password: 'staple battery horse' };
  let id = 0;
  const callWith = async (token: string) => (await postMcp(t.url, search(++id), { key: token })).status;

  before(async () => {
    t = await startTestGateway({
      env: {
        PORTCULLIS_RATE_LIMITS__CREDENTIAL__POINTS: String(LIMIT),
        PORTCULLIS_RATE_LIMITS__CREDENTIAL__WINDOW_SECONDS: '3600',
      },
    });
    origin = t.gw.url.origin;
    db = openOAuthTables(t);
    await addUser(db, alice.name, alice.password);
    await addUser(db, bob.name, bob.password);
    const created = await addClient(db, {
      grant: 'authorization_code',
      authMethod: 'none',
      redirectUris: ['http://127.0.0.1:1/callback'],
      scopes: ['memory:read', 'offline_access'],
    });
    client = { clientId: created.clientId, redirectUri: 'http://127.0.0.1:1/callback' };
  });
  after(async () => {
    await db?.close();
    await t?.close();
  });

  const authorize = (person: { name: string; password: string }) =>
    codeFlow(origin, new TestBrowser(origin), client, {
      scope: 'memory:read offline_access',
      resource: t.url,
      person,
    });

  it('a refreshed token and a new authorization of the same person are still limited', async () => {
    const first = await authorize(alice);
    for (let i = 0; i < LIMIT; i++) assert.equal(await callWith(first.access_token), 200);
    assert.equal(await callWith(first.access_token), 429, 'the budget is spent');

    const refreshed = await tokenRequest(origin, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: client.clientId,
      resource: t.url,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.notEqual(refreshed.body.access_token, first.access_token);
    assert.equal(await callWith(refreshed.body.access_token), 429, 'a refreshed token is the same caller');

    const again = await authorize(alice);
    assert.equal(await callWith(again.access_token), 429, 'a new authorization is the same caller');

    const [record] = await t.audit.log.query({ tool: 'memory_search', limit: 1, newest: true });
    assert.equal(record!.outcome, 'rate-limited');
    assert.deepEqual(record!.reasons, ['rate-limit-credential']);
  });

  it('another person using the same client keeps their own budget', async () => {
    const token = await authorize(bob);
    for (let i = 0; i < LIMIT; i++) assert.equal(await callWith(token.access_token), 200);
  });

  it('an API key is limited by its id, independently of OAuth grants', async () => {
    const key = (await t.key({ owner: 'alice', scopes: ['memory:read'] })).key;
    assert.equal(await callWith(key), 200);
  });
});
