import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import { setupTokenHash, verifyPassword } from '../../src/users/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { openOAuthTables } from '../helpers/oauth-gateway.js';
import { recordsAfter } from '../helpers/audit-records.js';

const PASSWORD = 'a good long password';

/**
 * Attacks on the first run's one-time setup link: using it twice, after it expired, or
 * guessing one. Each is refused; the guesses are counted per address and past the budget the
 * address is refused outright (429) while another address's link still works.
 */
describe('attack: abusing setup links', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ env: { PORTCULLIS_SERVER__TRUST_PROXY: 'true' } });
  });
  after(() => t.close());

  const setPassword = async (url: string, from: string, password = PASSWORD) => {
    const b = new TestBrowser(t.gw.url.origin);
    const fwd = { 'x-forwarded-for': from };
    const page = await fetch(url, { headers: fwd });
    const body = await page.text();
    if (page.status !== 200) return { status: page.status, body };
    for (const line of page.headers.getSetCookie())
      b.cookies.set(line.split('=')[0]!, line.split('=')[1]!.split(';')[0]!);
    const { csrf } = formOf(body);
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        ...fwd,
        cookie: b.cookieHeader(),
        origin: t.gw.url.origin,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ csrf, password, confirm: password }).toString(),
    });
    return { status: res.status, body: await res.text(), location: res.headers.get('location') };
  };

  it('a link works once: the second use is refused and the first password stands', async () => {
    const url = t.gw.firstRun!.setupUrl;
    const first = await setPassword(url, '192.0.2.10');
    assert.equal(first.status, 303);
    assert.equal(first.location, '/admin');
    const reused = await setPassword(url, '192.0.2.10', 'the attacker password');
    assert.equal(reused.status, 404);
    assert.match(reused.body, /unknown, already used or expired/);
    const db = openOAuthTables(t);
    try {
      const admin = await db.users.find('admin');
      assert.equal(await verifyPassword(PASSWORD, admin!.passwordHash!), true);
      assert.equal(await verifyPassword('the attacker password', admin!.passwordHash!), false);
    } finally {
      await db.close();
    }
  });

  it('an expired link is refused, and a fresh one for the same person works', async () => {
    const db = openOAuthTables(t);
    const stale = `psl_${'s'.repeat(43)}`;
    const fresh = `psl_${'f'.repeat(43)}`;
    try {
      const now = Date.now();
      await db.users.createSetupLink({
        tokenHash: setupTokenHash(stale),
        userName: 'admin',
        createdAt: new Date(now - 20 * 60_000),
        expiresAt: new Date(now - 5 * 60_000),
      });
      assert.equal((await setPassword(`${t.gw.url.origin}/setup/${stale}`, '192.0.2.20')).status, 404);
      await db.users.createSetupLink({
        tokenHash: setupTokenHash(fresh),
        userName: 'admin',
        createdAt: new Date(now),
        expiresAt: new Date(now + 60_000),
      });
      assert.equal((await setPassword(`${t.gw.url.origin}/setup/${fresh}`, '192.0.2.20')).status, 303);
    } finally {
      await db.close();
    }
  });

  it('guessing is throttled per address: past the budget even a right link is refused there, not elsewhere', async () => {
    const guesser = '198.51.100.7';
    let refusedOutright = 0;
    for (let i = 0; i < 25; i++) {
      const guess = `psl_${i.toString().padStart(43, 'g')}`;
      const res = await fetch(`${t.gw.url.origin}/setup/${guess}`, {
        headers: { 'x-forwarded-for': guesser },
      });
      assert.ok(res.status === 404 || res.status === 429, `guess ${i} answered ${res.status}`);
      if (res.status === 429) refusedOutright++;
    }
    assert.ok(
      refusedOutright >= 5,
      `the address was cut off after its budget (${refusedOutright} refused outright)`,
    );
    // A real link, opened from the locked address: refused before it is even looked up.
    const db = openOAuthTables(t);
    const real = `psl_${'r'.repeat(43)}`;
    try {
      await db.users.createSetupLink({
        tokenHash: setupTokenHash(real),
        userName: 'admin',
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + 60_000),
      });
    } finally {
      await db.close();
    }
    assert.equal(
      (await fetch(`${t.gw.url.origin}/setup/${real}`, { headers: { 'x-forwarded-for': guesser } })).status,
      429,
    );
    // The person, elsewhere, is not locked out by the guesser.
    assert.equal(
      (await fetch(`${t.gw.url.origin}/setup/${real}`, { headers: { 'x-forwarded-for': '203.0.113.5' } }))
        .status,
      200,
    );
    const refused = (await recordsAfter(t, 0)).filter((r) => r.reasons.includes('setup-link-refused'));
    assert.ok(refused.length >= 20, 'every wrong link is on the record');
  });
});
