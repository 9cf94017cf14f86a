import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPgTestSchema, type PgTestSchema } from '../../src/storage/postgres/test-support.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startCuttableProxy, viaProxy, type CuttableProxy } from '../helpers/replicas.js';

/**
 * oidc-provider's own endpoints (token, registration, authorization) read the database through
 * the adapter. While it is unreachable, a client must be told to come back later (503 with
 * Retry-After and `temporarily_unavailable`), not that the server is broken (500
 * `server_error`), which clients and load balancers treat as a reason to give up or to eject
 * the replica; and the answer must not leak the database's address or the driver's words.
 */
describe('the OAuth endpoints while PostgreSQL is unreachable', () => {
  let db: PgTestSchema;
  let proxy: CuttableProxy;
  let t: TestGateway;
  const tokenRequest = () =>
    fetch(new URL('/oauth/token', t.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('pcc_nosuchclient:secret').toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });

  before(async () => {
    db = await createPgTestSchema();
    proxy = await startCuttableProxy({ host: '127.0.0.1', port: Number(new URL(db.adminUrl).port || 5432) });
    t = await startTestGateway({
      config:
        `storage:\n  driver: postgres\n  url: ${viaProxy(db.writeUrl, proxy.port)}\n` +
        `  readUrl: ${viaProxy(db.readUrl, proxy.port)}\n  schema: ${db.schema}\n`,
    });
  });
  after(async () => {
    await t.close();
    await proxy.close();
    await db.drop();
  });

  it('the token endpoint answers 503 temporarily_unavailable with Retry-After, and no internal detail', async () => {
    proxy.cutOff();
    let res: Response;
    try {
      res = await tokenRequest();
    } finally {
      proxy.restore();
    }
    const text = await res.text();
    assert.equal(res.status, 503, text);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    const body = JSON.parse(text) as { error: string; error_description?: string };
    assert.equal(body.error, 'temporarily_unavailable');
    assert.doesNotMatch(text, /127\.0\.0\.1|postgres|ECONN|terminated/i);
  });

  it('the authorization endpoint says the same on its HTML page', async () => {
    proxy.cutOff();
    let res: Response;
    try {
      const u = new URL('/oauth/auth', t.url);
      u.search = new URLSearchParams({
        client_id: 'pcc_nosuchclient',
        response_type: 'code',
        redirect_uri: 'http://127.0.0.1:1/cb',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
        scope: 'openid',
      }).toString();
      res = await fetch(u, { redirect: 'manual' });
    } finally {
      proxy.restore();
    }
    const text = await res.text();
    assert.equal(res.status, 503, text.slice(0, 300));
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    assert.doesNotMatch(text, /127\.0\.0\.1|postgres|ECONN|terminated/i);
  });

  it('once the database is back, the same request gets its ordinary answer (unknown client)', async () => {
    let res: Response | undefined;
    for (let i = 0; i < 50; i++) {
      res = await tokenRequest();
      if (res.status !== 503) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(res!.status, 401);
    assert.equal(((await res!.json()) as { error: string }).error, 'invalid_client');
  });
});
