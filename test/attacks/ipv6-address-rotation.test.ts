import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf } from '../helpers/oauth-browser.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';

/**
 * Attack: every per-address budget (the sign-in guesses of `oauth.login.maxFailuresPerAddress`,
 * the registrations of `rateLimits.registration`, the requests of `rateLimits.oauth`, the failed
 * authentications on /mcp) is meant for one client. An IPv6 subscriber holds a whole /64
 * (RFC 6177), so one host that rotates its source address inside its /64 — or the same IPv4
 * host written as an IPv4-mapped IPv6 address — must still count as one address, as the
 * connection cap already counts it. Behind a trusted proxy (`server.trustProxy`) the address is
 * the proxy's last X-Forwarded-For entry, which is what the attacker's rotation changes.
 */

const PREFIX = '2001:db8:5:7';
const inPrefix = (i: number) => `${PREFIX}::${(i + 1).toString(16)}`;
const REDIRECT = 'http://127.0.0.1:1/callback';
const WRONG = 'not the password';
const BOB = { name: 'bob', password: 'battery staple horse' };

describe('attack: rotating source addresses inside one IPv6 /64', () => {
  let t: TestGateway;
  let origin: string;
  before(async () => {
    t = await startTestGateway({
      config: 'server:\n  trustProxy: true\noauth:\n  login:\n    maxFailuresPerAddress: 3\n',
      env: {
        PORTCULLIS_RATE_LIMITS__REGISTRATION__POINTS: '3',
        PORTCULLIS_RATE_LIMITS__FAILED_AUTH__POINTS: '3',
      },
    });
    origin = t.gw.url.origin;
    const db = openOAuthTables(t);
    await addUser(db, BOB.name, BOB.password);
    await db.close();
  });
  after(() => t.close());

  const register = (address: string) =>
    fetch(`${origin}/oauth/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({
        application_type: 'native',
        client_name: 'Rotating',
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
      }),
    });

  /** One sign-in attempt on /account from `address`, in a fresh cookie jar. */
  async function signIn(address: string, name: string, password: string) {
    const page = await fetch(`${origin}/account`, { headers: { 'x-forwarded-for': address } });
    const cookie = page.headers
      .getSetCookie()
      .map((l) => l.split(';')[0])
      .join('; ');
    const { action, csrf } = formOf(await page.text());
    const res = await fetch(new URL(action, origin), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie,
        origin,
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': address,
      },
      body: new URLSearchParams({ csrf, name, password }).toString(),
    });
    return { status: res.status, body: res.status === 303 ? '' : await res.text() };
  }

  it('registrations from new addresses of one /64 share one budget; another /64 has its own', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await register(inPrefix(i))).status);
    assert.deepEqual(statuses, [201, 201, 201, 429, 429, 429], `one /64, one budget: ${statuses.join(' ')}`);
    assert.equal((await register('2001:db8:5:8::1')).status, 201, 'the next /64 is another subscriber');
  });

  it('an IPv4 client and its IPv4-mapped IPv6 spelling share one budget', async () => {
    const statuses: number[] = [];
    for (const address of ['198.51.100.9', '::ffff:198.51.100.9', '::ffff:c633:6409', '198.51.100.9']) {
      statuses.push((await register(address)).status);
    }
    assert.deepEqual(statuses, [201, 201, 201, 429], statuses.join(' '));
  });

  it('sign-in guesses from new addresses of one /64 meet one per-address budget', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await signIn(inPrefix(100 + i), `nobody${i}`, WRONG);
      assert.equal(r.status, 401);
      assert.match(r.body, /do not match an active account/);
    }
    const locked = await signIn(inPrefix(200), BOB.name, BOB.password);
    assert.equal(locked.status, 401, 'the /64 is locked, whichever address of it signs in');
    assert.match(locked.body, /Too many failed attempts/);
    const elsewhere = await signIn('2001:db8:5:9::1', BOB.name, BOB.password);
    assert.equal(elsewhere.status, 303, 'a person in another /64 signs in');
  });

  it('failed authentications on /mcp from new addresses of one /64 meet one budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(t.url, {
        method: 'POST',
        headers: {
          authorization: 'Bearer pcat_not-a-real-key',
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'x-forwarded-for': `2001:db8:6:1::${i + 1}`,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      statuses.push(res.status);
    }
    assert.ok(statuses.includes(429), `six bad keys from one /64 were never slowed: ${statuses.join(' ')}`);
    const { key } = await t.key({ owner: 'carol' });
    const ok = await fetch(t.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'x-forwarded-for': '2001:db8:6:2::1',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(ok.status, 200, 'a good key from another /64 is served');
  });
});
