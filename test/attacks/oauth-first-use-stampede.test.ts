import assert from 'node:assert/strict';
import { register } from 'node:module';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  addClient,
  authorizationRequest,
  openOAuthTables,
  registerClient,
  tokenRequest,
} from '../helpers/oauth-gateway.js';

/**
 * The authorization server (oidc-provider) is built by the first request that needs it, not at
 * start. A burst of first requests right after start — anyone on the network can send one — must
 * not build it twice (two instances would each hold their own keys and caches) nor see a
 * half-built one: every request, whichever endpoint it hits, gets the answer it would get from a
 * gateway that had been running for hours, and the build happens exactly once.
 */

const BUILT = 'oauth: authorization server built on first use';

// A slow disk: loading the provider's module takes 300 ms during which the event loop is free,
// so the burst below arrives while the build is under way (Node otherwise loads the module graph
// in one go, and the burst would only queue behind it).
register(
  `data:text/javascript,${encodeURIComponent(`
    export async function load(url, context, next) {
      if (url.endsWith('/src/oauth/create-provider.js')) await new Promise((r) => setTimeout(r, 300));
      return next(url, context);
    }`)}`,
);

describe('a stampede of first OAuth requests right after start', () => {
  let t: TestGateway;
  const logLines: string[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    t = await startTestGateway({ logger: pino({ level: 'info' }, sink) });
  });
  after(() => t.close());

  const builds = () => logLines.filter((l) => (JSON.parse(l) as { msg?: string }).msg === BUILT).length;

  it('answers discovery, registration, token and authorization requests correctly and builds once', async () => {
    const origin = t.gw.url.origin;
    // Clients made in the database, as the CLI does: nothing here touches the provider.
    const db = openOAuthTables(t);
    const machine = await addClient(db, { grant: 'client_credentials' });
    const app = await addClient(db, {
      grant: 'authorization_code',
      authMethod: 'none',
      redirectUris: ['http://127.0.0.1:1/callback'],
    });
    await db.close();
    // The protected-resource metadata needs no provider.
    const prm = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`);
    assert.equal(prm.status, 200);
    await prm.body?.cancel();
    assert.equal(builds(), 0, 'nothing has built the authorization server yet');

    const basic = `Basic ${Buffer.from(`${encodeURIComponent(machine.clientId)}:${encodeURIComponent(machine.clientSecret!)}`).toString('base64')}`;
    const N = 12;
    const discovery = Array.from({ length: N }, async () => {
      const res = await fetch(`${origin}/.well-known/oauth-authorization-server/oauth`);
      return { status: res.status, body: (await res.json()) as any };
    });
    const registrations = Array.from({ length: N }, () => registerClient(origin));
    const tokens = Array.from({ length: N }, () =>
      tokenRequest(
        origin,
        { grant_type: 'client_credentials', scope: 'memory:read', resource: t.url },
        { authorization: basic },
      ),
    );
    const forged = Array.from({ length: N }, () =>
      tokenRequest(origin, {
        grant_type: 'authorization_code',
        code: 'forged',
        redirect_uri: 'http://127.0.0.1:1/callback',
        client_id: app.clientId,
        code_verifier: 'x'.repeat(43),
      }),
    );
    const authorizations = Array.from({ length: N }, async () => {
      const { url } = authorizationRequest(
        origin,
        { clientId: app.clientId, redirectUri: 'http://127.0.0.1:1/callback' },
        { scope: 'memory:read', resource: t.url },
      );
      const res = await fetch(url, { redirect: 'manual' });
      await res.body?.cancel();
      return { status: res.status, location: res.headers.get('location') };
    });
    const [d, r, tk, f, a] = await Promise.all([
      Promise.all(discovery),
      Promise.all(registrations),
      Promise.all(tokens),
      Promise.all(forged),
      Promise.all(authorizations),
    ]);

    for (const res of d) {
      assert.equal(res.status, 200);
      assert.equal(res.body.issuer, `${origin}/oauth`);
      assert.ok(res.body.scopes_supported.includes('memory:read'), 'tool scopes are listed');
    }
    for (const res of r) assert.match(res.clientId, /\S/, JSON.stringify(res.response));
    assert.equal(new Set(r.map((res) => res.clientId)).size, N, 'each registration is its own client');
    for (const res of tk) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.token_type, 'Bearer');
    }
    for (const res of f) {
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error, 'invalid_grant');
    }
    for (const res of a) {
      assert.equal(res.status, 303);
      assert.match(res.location ?? '', /^\/oauth\/interaction\/[\w-]+$/);
    }
    assert.equal(builds(), 1, 'the authorization server was built exactly once');

    // A token issued in the burst is a real one: /mcp accepts it.
    const mcp = await fetch(t.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tk[0]!.body.access_token as string}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'stampede', version: '1' },
        },
      }),
    });
    assert.equal(mcp.status, 200, await mcp.text());
  });
});
