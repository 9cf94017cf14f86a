import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { startInstalledGateway, type InstalledGateway } from '../helpers/default-install.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { eventually } from '../helpers/upstream-servers.js';
import {
  addClient,
  addUser,
  authorizationRequest,
  codeFlow,
  openOAuthTables,
  registerClient,
} from '../helpers/oauth-gateway.js';

/**
 * Dynamic Client Registration is open to anyone who can reach the gateway: without bounds, one
 * address can fill the database with clients nobody uses. Registrations need `application_type`
 * (MCP 2026-07-28), are limited per address and in total, leave an audit record, and are
 * pruned when no person ever completes an authorization with them.
 */

const REDIRECT = 'http://127.0.0.1:1/callback';
const metadata = (over: Record<string, unknown> = {}) => ({
  application_type: 'native',
  client_name: 'Flood',
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'none',
  ...over,
});
const register = async (origin: string, body: unknown, path = '/oauth/reg') => {
  const res = await fetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};

describe('a registration flood against a default install', () => {
  let gw: InstalledGateway;
  before(async () => {
    gw = await startInstalledGateway();
  });
  after(() => gw.close());

  it('a registration without application_type is refused with a description that names it', async () => {
    const { application_type: _omitted, ...without } = metadata();
    const res = await register(gw.origin, without);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error, 'invalid_client_metadata');
    assert.match(res.body.error_description, /application_type/);
    const odd = await register(gw.origin, metadata({ application_type: 'desktop' }));
    assert.equal(odd.status, 400);
    assert.match(odd.body.error_description, /application_type/);
  });

  it('one address registering again and again is stopped after a few, with Retry-After', async () => {
    const statuses: number[] = [];
    let refusal: Awaited<ReturnType<typeof register>> | undefined;
    for (let i = 0; i < 40; i++) {
      const res = await register(gw.origin, metadata({ client_name: `Flood ${i}` }));
      statuses.push(res.status);
      if (res.status !== 201) {
        refusal = res;
        break;
      }
    }
    assert.ok(refusal, `all 40 registrations from one address were accepted: ${statuses.join(',')}`);
    assert.equal(refusal.status, 429);
    assert.ok(Number(refusal.headers.get('retry-after')) > 0);
    assert.ok(statuses.filter((s) => s === 201).length <= 20, statuses.join(','));
    // oidc-provider's router would take these spellings as the registration endpoint too.
    for (const path of ['/oauth/REG', '/oauth/Reg', '/oauth/reg/']) {
      const res = await register(gw.origin, metadata({ client_name: 'Sideways' }), path);
      assert.equal(res.status, 404, `${path}: ${res.status}`);
    }
  });
});

describe('the registration cap, pruning of unused registrations, and their audit records', () => {
  let t: TestGateway;
  let db: OAuthDatabase;
  let origin: string;
  const TTL = 3600;
  before(async () => {
    t = await startTestGateway({
      env: {
        PORTCULLIS_OAUTH__REGISTRATION__MAX_CLIENTS: '3',
        PORTCULLIS_OAUTH__REGISTRATION__UNUSED_CLIENT_TTL_SECONDS: String(TTL),
        PORTCULLIS_RATE_LIMITS__REGISTRATION__POINTS: '1000',
      },
    });
    origin = t.gw.url.origin;
    db = openOAuthTables(t);
    await addUser(db, 'alice', 'correct horse');
  });
  after(async () => {
    await db.close();
    await t.close();
  });

  const stillKnown = async (clientId: string) => {
    const { url } = authorizationRequest(
      origin,
      { clientId, redirectUri: REDIRECT },
      {
        scope: 'memory:read',
        resource: t.url,
      },
    );
    const page = await new TestBrowser(origin).navigate(url);
    return page.res.status === 200;
  };

  it('refuses registrations beyond the cap, operator clients not counted, and prunes the unused ones', async () => {
    await addClient(db, { grant: 'client_credentials', scopes: ['memory:read'] });
    const used = await registerClient(origin, { client_name: 'Used' });
    const unused = await registerClient(origin, { client_name: 'Never used' });
    await registerClient(origin, { client_name: 'Also never used' });
    const full = await register(origin, metadata({ client_name: 'One too many' }));
    assert.equal(full.status, 503, JSON.stringify(full.body));
    assert.equal(full.body.error, 'temporarily_unavailable');
    assert.match(full.body.error_description, /registration/i);

    // A person completes an authorization with one client; the others stay unused.
    await codeFlow(origin, new TestBrowser(origin), used, {
      scope: 'memory:read',
      resource: t.url,
      person: { name: 'alice', password: 'correct horse' },
    });

    // The gateway's hourly sweep, as it runs once the TTL has passed.
    await db.oauth.purgeExpired(new Date(Date.now() + (TTL + 60) * 1000));
    assert.equal(await stillKnown(unused.clientId), false, 'the unused registration is gone');
    assert.equal(await stillKnown(used.clientId), true, 'the used one stays');
    assert.equal((await register(origin, metadata({ client_name: 'Room again' }))).status, 201);
  });

  it('every registration and every refused one leaves an admin audit record', async () => {
    const refused = await register(origin, { ...metadata(), application_type: undefined });
    assert.equal(refused.status, 400);
    const ok = await registerClient(origin, { client_name: 'Audited' });
    // Written after the fact (oidc-provider reports a registration as it answers; the commit
    // runs on the audit writer thread), so the record may land just after the answer.
    const records = await eventually(async () => {
      const all = await t.audit.log.query({ limit: 100_000 });
      return all.some((r) => r.clientId === ok.clientId && r.reasons.includes('client-registered'))
        ? all
        : undefined;
    }, 'the registration record');
    const registered = records.filter((r) => r.event === 'admin' && r.reasons.includes('client-registered'));
    assert.ok(registered.length >= 4, `registrations recorded: ${registered.length}`);
    for (const r of registered) {
      assert.equal(r.decision, 'allow');
      assert.equal(r.outcome, 'ok');
      assert.equal(r.tool, undefined);
      assert.ok(r.clientId);
    }
    assert.ok(registered.some((r) => r.clientId === ok.clientId));
    const denied = records.filter(
      (r) => r.event === 'admin' && r.reasons.includes('client-registration-refused'),
    );
    assert.ok(denied.length >= 2, 'the refusals (over the cap, missing application_type) are recorded');
    for (const r of denied) assert.equal(r.decision, 'deny');
  });
});
