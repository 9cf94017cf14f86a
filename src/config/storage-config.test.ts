import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPostgresStorage, storageConfigSchema, type PgStorageConfig } from '../storage/index.js';
import { checkInsecureSettings, configSchema } from './index.js';

describe('the storage settings', () => {
  it('need a URL for postgres, of the right shape, and a plain schema name', () => {
    assert.throws(() => storageConfigSchema.parse({ driver: 'postgres' }), /needs storage.url/);
    assert.throws(
      () => storageConfigSchema.parse({ driver: 'postgres', url: 'mysql://db/x' }),
      /env:NAME, file:\/absolute\/path or a postgres:\/\/ URL/,
    );
    assert.throws(
      () =>
        storageConfigSchema.parse({
          driver: 'postgres',
          url: 'env:DB',
          schema: "x'; DROP SCHEMA public; --",
        }),
      /lower-case SQL identifier/,
    );
    assert.throws(() => storageConfigSchema.parse({ driver: 'postgres', url: 'env:DB', pool: { max: 0 } }));
    const ok = storageConfigSchema.parse({ driver: 'postgres', url: 'env:PORTCULLIS_DATABASE_URL' });
    assert.equal(ok.schema, 'portcullis');
    assert.equal(ok.pool.max, 10);
  });

  it('warn when a literal URL puts a password in the configuration file', () => {
    const config = configSchema.parse({
      storage: { driver: 'postgres', url: 'postgres://app:s3cret@db.example/portcullis', readUrl: 'env:RO' },
    });
    const messages = checkInsecureSettings(config).map((p) => p.message);
    assert.ok(messages.some((m) => /storage\.url is a literal URL with a password/.test(m)));
    assert.ok(!messages.some((m) => /storage\.readUrl/.test(m)));
  });

  it('say clearly when the database cannot be reached or the reference is unset', async () => {
    const base = storageConfigSchema.parse({
      driver: 'postgres',
      url: 'postgres://nobody@127.0.0.1:1/test',
    }) as PgStorageConfig;
    await assert.rejects(
      openPostgresStorage(base),
      /Cannot connect to the PostgreSQL database \(storage.url\)/,
    );
    await assert.rejects(
      openPostgresStorage({ ...base, url: 'env:PORTCULLIS_TEST_UNSET_DATABASE_URL' }, {}),
      /env:PORTCULLIS_TEST_UNSET_DATABASE_URL is not set/,
    );
  });
});
