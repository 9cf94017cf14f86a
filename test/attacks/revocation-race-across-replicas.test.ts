import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { openPostgresOAuthDatabase, revocationSignal, type OAuthDatabase } from '../../src/oauth/index.js';
import { createRevocationCheck } from '../../src/oauth/check-revocation.js';
import { createPgTestSchema, type PgTestSchema } from '../../src/storage/postgres/test-support.js';
import { eventually, sharedStateFor, startPrivateRedis, testPrefix } from '../helpers/redis.js';

const HOUR = 3_600_000;
const tokenFor = (grantId: string) => ({
  subject: 'alice',
  clientId: 'client-1',
  scopes: new Set(['memory:read']),
  jti: `jti-${grantId}`,
  expiresAt: new Date(Date.now() + HOUR),
  grantId,
});

/**
 * Attack: use a token at replica B in the moment after it was revoked elsewhere, while B's
 * Redis subscription is down or silently dead — the message that would drop B's cache never
 * comes. B trusts its cache only while the subscription is provably fresh (subscribed, and
 * Redis answered its heartbeat within the last second) and reads the database epoch at least
 * every second anyway, so the revoked token is refused within about a second, never served on.
 */
describe('attack: racing a revocation to a replica whose subscription dropped', () => {
  let pg: PgTestSchema;
  let writer: OAuthDatabase; // a writer whose message is lost (it publishes nothing)
  before(async () => {
    pg = await createPgTestSchema();
    writer = await openPostgresOAuthDatabase(pg.config);
  });
  after(async () => {
    await writer.close();
    await pg.drop();
  });

  async function replicaB(t: TestContext, url: string) {
    const shared = await sharedStateFor(t, testPrefix(t, url), url);
    const signal = revocationSignal(shared);
    const db = await openPostgresOAuthDatabase(pg.config);
    t.after(() => db.close());
    await eventually(() => signal.fresh(), 3000, 'a fresh subscription');
    return { shared, check: createRevocationCheck(db.oauth, { requireGrant: true, signal }) };
  }

  /** Calls at B every 20 ms until refused; the time it took after the revocation. */
  async function refusedAfter(
    check: ReturnType<typeof createRevocationCheck>,
    grantId: string,
    since: number,
  ) {
    for (;;) {
      if ((await check.check(tokenFor(grantId), new Date())) === 'token-revoked') return Date.now() - since;
      if (Date.now() - since > 10_000) return Infinity;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const grant = (id: string) =>
    writer.oauth.upsert(
      'Grant',
      id,
      { accountId: 'alice', clientId: 'client-1' },
      new Date(Date.now() + HOUR),
    );

  it('a revocation whose message was lost is refused within a second, though the subscription looks healthy', async (t) => {
    const redis = await startPrivateRedis(t);
    const b = await replicaB(t, redis.url);
    await grant('g-lost');
    assert.equal(await b.check.check(tokenFor('g-lost'), new Date()), undefined);
    const at = Date.now();
    await writer.oauth.revokeByGrantId('g-lost');
    const took = await refusedAfter(b.check, 'g-lost', at);
    assert.ok(took <= 1200, `refused ${took} ms after the revocation`);
  });

  it('a frozen Redis (connection open, nothing answers) stops the cache being trusted within a second', async (t) => {
    const redis = await startPrivateRedis(t);
    const b = await replicaB(t, redis.url);
    await grant('g-frozen');
    assert.equal(await b.check.check(tokenFor('g-frozen'), new Date()), undefined);
    redis.freeze();
    t.after(() => redis.thaw());
    const at = Date.now();
    await writer.oauth.revokeByGrantId('g-frozen');
    const took = await refusedAfter(b.check, 'g-frozen', at);
    assert.ok(took <= 1200, `refused ${took} ms after the revocation`);
  });

  it('a killed subscriber connection makes B read the epoch on its next call', async (t) => {
    const redis = await startPrivateRedis(t);
    const b = await replicaB(t, redis.url);
    await grant('g-killed');
    assert.equal(await b.check.check(tokenFor('g-killed'), new Date()), undefined);
    const admin = new Redis(redis.url);
    t.after(() => admin.disconnect());
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await eventually(() => !b.shared.subscriptionFresh(), 2000, 'B to notice');
    await writer.oauth.revokeByGrantId('g-killed');
    assert.equal(await b.check.check(tokenFor('g-killed'), new Date()), 'token-revoked');
  });
});
