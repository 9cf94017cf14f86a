import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import { SHARED_REDIS_URL } from '../helpers/redis.js';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

const THROTTLED = /Too many failed attempts/;

/**
 * Attack: a password guesser behind a round-robin load balancer sends each guess to the next
 * replica, hoping each keeps its own count (3 replicas, 3 budgets). With Redis configured the
 * throttle is shared: the account's budget (oauth.login.maxFailuresPerAccount, 5) is spent
 * once, whichever replica each guess lands on, and the lock holds on every replica.
 */
describe('attack: spreading password guesses over replicas', () => {
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

  async function guess(replica: TestGateway, password: string) {
    const browser = new TestBrowser(replica.gw.url.origin);
    const { action, csrf } = formOf((await browser.navigate('/account')).body);
    const res = await browser.request(action, { form: { csrf, name: 'alice', password } });
    return { status: res.status, body: await res.text() };
  }

  it('ten wrong guesses alternating between two replicas get five tries, not ten', async () => {
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await guess(replicas[i % 2]!, `guess ${i}`));
    const tried = answers.filter((a) => !THROTTLED.test(a.body)).length;
    assert.equal(tried, 5, 'the account has one budget across replicas');
    for (const a of answers.slice(5)) assert.equal(a.status, 401);
    // The lock holds on both, whoever is asked next.
    for (const r of replicas) assert.match((await guess(r, 'yet another')).body, THROTTLED);
  });
});
