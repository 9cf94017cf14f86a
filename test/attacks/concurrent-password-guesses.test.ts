// Attack: send the password guesses all at once instead of one after another. The sign-in
// checked the throttle, then ran scrypt (tens of milliseconds), and only then counted the
// failure: every guess that arrived while the others were still hashing passed the check, so
// a guesser firing 20 guesses in parallel (over two replicas) got 20 tries instead of the
// account's 5 (`oauth.login.maxFailuresPerAccount`), and again after every lockout.
// Seen failing before the fix: 20 of 20 concurrent guesses were tried, none refused.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { SHARED_REDIS_URL } from '../helpers/redis.js';

const THROTTLED = /Too many failed attempts/;
const ALICE = { name: 'alice', password: 'correct horse battery' };

describe('attack: password guesses fired concurrently over replicas', () => {
  const prefix = `portcullis-test:${randomUUID()}:`;
  let replicas: TestGateway[] = [];
  before(async () => {
    const env = { PORTCULLIS_REDIS__URL: SHARED_REDIS_URL, PORTCULLIS_REDIS__PREFIX: prefix };
    replicas = await Promise.all([startTestGateway({ env }), startTestGateway({ env })]);
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    const client = new Redis(SHARED_REDIS_URL);
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  /** A sign-in form ready to post (its CSRF token fetched), so the posts can go out together. */
  async function form(replica: TestGateway) {
    const browser = new TestBrowser(replica.gw.url.origin);
    const { action, csrf } = formOf((await browser.navigate('/account')).body);
    return async (name: string, password: string) => {
      const res = await browser.request(action, { form: { csrf, name, password } });
      return { status: res.status, body: await res.text() };
    };
  }

  // First: every request here comes from 127.0.0.1, and the attack then locks that address too.
  it('the legitimate use beside it: sign-ins at the same moment within the budget, and many in a row, all succeed; a typo then the password works', async () => {
    // Each replica here has its own SQLite file: the person is added to both.
    for (const r of replicas) {
      const db = openOAuthTables(r);
      await addUser(db, ALICE.name, ALICE.password);
      await db.close();
    }
    const posts = await Promise.all(Array.from({ length: 4 }, (_, i) => form(replicas[i % 2]!)));
    const together = await Promise.all(posts.map((post) => post(ALICE.name, ALICE.password)));
    assert.ok(
      together.every((a) => a.status < 400 && !THROTTLED.test(a.body)),
      'four at once',
    );
    // A success gives its attempt back: more sign-ins in a row than the budget all work.
    for (let i = 0; i < 8; i++) {
      const one = await (await form(replicas[i % 2]!))(ALICE.name, ALICE.password);
      assert.ok(one.status < 400 && !THROTTLED.test(one.body), `sign-in ${i + 1} in a row`);
    }
    const typo = await (await form(replicas[0]!))(ALICE.name, 'correct horse batter');
    assert.equal(typo.status, 401);
    const right = await (await form(replicas[1]!))(ALICE.name, ALICE.password);
    assert.ok(right.status < 400, String(right.status));
  });

  it('20 concurrent wrong guesses for one account get at most 5 tries', async () => {
    const posts = await Promise.all(Array.from({ length: 20 }, (_, i) => form(replicas[i % 2]!)));
    const answers = await Promise.all(posts.map((post, i) => post('mallory-target', `guess ${i}`)));
    const tried = answers.filter((a) => !THROTTLED.test(a.body)).length;
    assert.ok(tried <= 5, `${tried} of 20 concurrent guesses were tried`);
    for (const r of replicas)
      assert.match((await (await form(r))('mallory-target', 'again')).body, THROTTLED);
  });
});
