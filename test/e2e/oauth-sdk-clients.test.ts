import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { TestOAuthProvider } from '../helpers/oauth-client.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';

const REDIRECT = 'http://127.0.0.1:1/callback';

type Result = { structuredContent?: any; isError?: boolean };

/**
 * Drives one SDK client from nothing but the MCP URL: the first connect gets 401, the SDK finds
 * the protected-resource metadata and the authorization server, registers, and asks to open the
 * authorization URL; a person signs in and consents; the SDK redeems the code; tools work.
 */
async function connectWithOAuth<C extends { connect(t: any): Promise<void> }>(
  makeClient: () => C,
  makeTransport: (provider: TestOAuthProvider) => any,
  provider: TestOAuthProvider,
  browser: TestBrowser,
): Promise<C> {
  const first = makeTransport(provider);
  await assert.rejects(makeClient().connect(first), /nauthori[sz]ed/i);
  assert.ok(provider.authorizationUrl, 'the SDK asked to open the authorization URL');
  const callback = await browser.authorize(provider.authorizationUrl.href, {
    name: 'alice',
    password: 'correct horse',
  });
  assert.equal(callback.origin + callback.pathname, REDIRECT);
  await first.finishAuth(callback.searchParams.get('code'), callback.searchParams.get('iss') ?? undefined);
  const client = makeClient();
  await client.connect(makeTransport(provider));
  return client;
}

describe('OAuth with real MCP SDK clients', () => {
  let t: TestGateway;
  let db: OAuthDatabase;
  let origin: string;
  before(async () => {
    t = await startTestGateway();
    origin = t.gw.url.origin;
    db = openOAuthTables(t);
    await addUser(db, 'alice', 'correct horse');
  });
  after(async () => {
    await db.close();
    await t.close();
  });

  it('an SDK v2 client discovers, registers dynamically, gets consent and calls tools', async () => {
    const provider = new TestOAuthProvider({ redirectUrl: REDIRECT, clientName: 'Notes app' });
    const client = await connectWithOAuth(
      () => new ClientV2({ name: 'v2', version: '1.0.0' }),
      (p) => new TransportV2(new URL(t.url), { authProvider: p as any }),
      provider,
      new TestBrowser(origin),
    );
    try {
      const tokens = provider.tokens();
      assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
      const claims = decodeJwt(tokens.access_token);
      assert.equal(claims.aud, t.url);
      assert.equal(claims.iss, `${origin}/oauth`);
      assert.equal(claims.sub, 'alice');
      assert.ok(claims.jti && claims.client_id && claims.scope);
      assert.ok(tokens.refresh_token, 'a refresh token was issued');
      const saved = (await client.callTool({
        name: 'memory_save',
        arguments: { content: 'hello from oauth' },
      })) as Result;
      assert.equal(saved.isError, undefined);
      const found = (await client.callTool({
        name: 'memory_search',
        arguments: { query: 'oauth' },
      })) as Result;
      assert.equal(found.structuredContent.items.length, 1);
    } finally {
      await client.close();
    }
  });

  it('an SDK 1.x client completes the same flow', async () => {
    const provider = new TestOAuthProvider({ redirectUrl: REDIRECT, clientName: 'Legacy app' });
    const client = await connectWithOAuth(
      () => new ClientV1({ name: 'v1', version: '1.0.0' }),
      (p) => new TransportV1(new URL(t.url), { authProvider: p as any }),
      provider,
      new TestBrowser(origin),
    );
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((x) => x.name === 'memory_search'));
    } finally {
      await client.close();
    }
  });
});
