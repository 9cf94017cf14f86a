import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { RevocationCheck } from '../../src/auth/index.js';
import { initDataDir } from '../../src/data-dir/index.js';
import {
  openPostgresOAuthDatabase,
  revocationSignal,
  withRevocationFanout,
  type OAuthDatabase,
  type OAuthStore,
} from '../../src/oauth/index.js';
import { createRevocationCheck } from '../../src/oauth/check-revocation.js';
import { createPgTestSchema, type PgTestSchema } from '../../src/storage/postgres/test-support.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';
import {
  eventually,
  sharedStateFor,
  startPrivateRedis,
  testPrefix,
  type PrivateRedis,
} from '../helpers/redis.js';

const HOUR = 3_600_000;
const tokenFor = (grantId: string) => ({
  subject: 'alice',
  clientId: 'client-1',
  scopes: new Set(['memory:read']),
  jti: `jti-${grantId}`,
  expiresAt: new Date(Date.now() + HOUR),
  grantId,
});

/** One replica's view: its own pools on the schema, its own Redis connections, its own cache. */
interface Replica {
  readonly db: OAuthDatabase;
  readonly check: RevocationCheck;
  /** Epoch reads this replica made. */
  epochReads(): number;
}

async function replica(t: TestContext, pg: PgTestSchema, redisUrl: string, prefix: string): Promise<Replica> {
  const shared = await sharedStateFor(t, prefix, redisUrl);
  const signal = revocationSignal(shared);
  const opened = withRevocationFanout(await openPostgresOAuthDatabase(pg.config), signal);
  t.after(() => opened.close());
  let reads = 0;
  const counted: OAuthStore = {
    ...opened.oauth,
    revocationEpoch: async () => {
      reads++;
      return opened.oauth.revocationEpoch();
    },
  };
  await eventually(() => signal.fresh(), 3000, 'a fresh subscription');
  return {
    db: opened,
    check: createRevocationCheck(counted, { requireGrant: true, signal }),
    epochReads: () => reads,
  };
}

async function grant(db: OAuthDatabase, grantId: string) {
  await db.oauth.upsert(
    'Grant',
    grantId,
    { accountId: 'alice', clientId: 'client-1' },
    new Date(Date.now() + HOUR),
  );
}

/** Waits for the message of a revocation to be handled (the client's next call comes later still). */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('revocation across replicas (Redis fan-out, PostgreSQL epoch)', () => {
  let pg: PgTestSchema;
  let redis: PrivateRedis;
  before(async () => {
    pg = await createPgTestSchema();
  });
  after(() => pg.drop());

  it('while messages arrive, valid tokens skip the epoch read and a revocation through A stops the next call at B', async (t) => {
    redis = await startPrivateRedis(t);
    const prefix = testPrefix(t, redis.url);
    const a = await replica(t, pg, redis.url, prefix);
    const b = await replica(t, pg, redis.url, prefix);
    await grant(a.db, 'g-fan-1');
    await grant(a.db, 'g-fan-keep');
    assert.equal(await b.check.check(tokenFor('g-fan-1'), new Date()), undefined);
    const before = b.epochReads();
    for (let i = 0; i < 50; i++)
      assert.equal(await b.check.check(tokenFor('g-fan-1'), new Date()), undefined);
    assert.ok(b.epochReads() - before <= 1, `50 calls read the epoch ${b.epochReads() - before} times`);
    await a.db.oauth.revokeByGrantId('g-fan-1');
    await settle();
    assert.equal(await b.check.check(tokenFor('g-fan-1'), new Date()), 'token-revoked');
    assert.equal(
      await b.check.check(tokenFor('g-fan-keep'), new Date()),
      undefined,
      'the other grant still works',
    );
  });

  it('with Redis killed, every call reads the epoch again: a revocation still stops the next call', async (t) => {
    redis = await startPrivateRedis(t);
    const prefix = testPrefix(t, redis.url);
    const a = await replica(t, pg, redis.url, prefix);
    const b = await replica(t, pg, redis.url, prefix);
    await grant(a.db, 'g-dead-1');
    await grant(a.db, 'g-dead-keep');
    assert.equal(await b.check.check(tokenFor('g-dead-1'), new Date()), undefined);
    await redis.kill();
    await a.db.oauth.revokeByGrantId('g-dead-1'); // its message cannot go out
    assert.equal(await b.check.check(tokenFor('g-dead-1'), new Date()), 'token-revoked');
    assert.equal(await b.check.check(tokenFor('g-dead-keep'), new Date()), undefined);
    const before = b.epochReads();
    for (let i = 0; i < 5; i++) await b.check.check(tokenFor('g-dead-keep'), new Date());
    assert.equal(b.epochReads() - before, 5, 'no Redis: the epoch on every call');
    // Redis back: the replicas resubscribe by themselves and trust messages again.
    await redis.restart();
    await grant(a.db, 'g-dead-2');
    await eventually(
      async () => {
        await b.check.check(tokenFor('g-dead-2'), new Date());
        const n = b.epochReads();
        await b.check.check(tokenFor('g-dead-2'), new Date());
        return b.epochReads() === n;
      },
      10_000,
      'the epoch read to be skipped again',
    );
    await a.db.oauth.revokeByGrantId('g-dead-2');
    await settle();
    assert.equal(await b.check.check(tokenFor('g-dead-2'), new Date()), 'token-revoked');
  });

  it('`portcullis grants revoke` from the CLI stops the next call at a replica that skips the epoch', async (t) => {
    redis = await startPrivateRedis(t);
    const prefix = testPrefix(t, redis.url);
    const b = await replica(t, pg, redis.url, prefix);
    await grant(b.db, 'g-cli-1');
    const dataDir = tempDir();
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    initDataDir(dataDir);
    fs.writeFileSync(
      path.join(dataDir, 'portcullis.yaml'),
      `storage:\n  driver: postgres\n  url: ${pg.writeUrl}\n  readUrl: ${pg.readUrl}\n  schema: ${pg.schema}\n` +
        `redis:\n  url: ${redis.url}\n  prefix: "${prefix}"\naudit:\n  enabled: false\n`,
    );
    assert.equal(await b.check.check(tokenFor('g-cli-1'), new Date()), undefined);
    for (let i = 0; i < 3; i++) await b.check.check(tokenFor('g-cli-1'), new Date());
    const readsBefore = b.epochReads();
    const cli = await runCli(['grants', 'revoke', 'g-cli-1', '--data-dir', dataDir]);
    assert.equal(cli.code, 0, cli.stderr);
    await settle();
    assert.equal(await b.check.check(tokenFor('g-cli-1'), new Date()), 'token-revoked');
    assert.ok(b.epochReads() > readsBefore, 'the CLI’s message made B read the epoch');
  });
});
