import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresAuditStore } from '../../src/audit/index.js';
import { openPostgresOAuthDatabase } from '../../src/oauth/index.js';
import { storageConfigSchema } from '../../src/storage/index.js';
import { openPostgresStorage, type PgStorageConfig } from '../../src/storage/postgres/index.js';
import {
  createPgTestSchema,
  PG_TEST_ADMIN_URL,
  type PgTestSchema,
} from '../../src/storage/postgres/test-support.js';
import { startTestGateway } from '../helpers/gateway.js';

/**
 * The gateway never runs on a PostgreSQL superuser: on one, a bug or an injected statement could
 * read other databases, run programs on the database host (COPY … PROGRAM) and drop the audit
 * trail. Whichever connection is a superuser (write, read or migration), it refuses to start;
 * the same gateway on roles of its own starts.
 */

const config = (over: Partial<PgStorageConfig>, t: PgTestSchema) =>
  storageConfigSchema.parse({ ...t.config, ...over }) as PgStorageConfig;

describe('a superuser database connection', () => {
  const schemas: PgTestSchema[] = [];
  after(async () => {
    for (const s of schemas) await s.drop();
  });

  it('is refused for every store and every connection, with a clear error', async () => {
    const t = await createPgTestSchema();
    schemas.push(t);
    const superuser = /is a PostgreSQL superuser/;
    await assert.rejects(openPostgresStorage(config({ url: PG_TEST_ADMIN_URL }, t)), superuser);
    await assert.rejects(openPostgresStorage(config({ readUrl: PG_TEST_ADMIN_URL }, t)), superuser);
    await assert.rejects(openPostgresStorage(config({ migrateUrl: PG_TEST_ADMIN_URL }, t)), superuser);
    await assert.rejects(openPostgresOAuthDatabase(config({ url: PG_TEST_ADMIN_URL }, t)), superuser);
    await assert.rejects(openPostgresAuditStore(config({ url: PG_TEST_ADMIN_URL }, t)), superuser);
  });

  it('is refused for a role that may SET ROLE to a superuser', async () => {
    const t = await createPgTestSchema();
    schemas.push(t);
    const admin = new pg.Client({ connectionString: t.adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${t.schema}_su SUPERUSER NOLOGIN`);
      await admin.query(`GRANT ${t.schema}_su TO ${t.schema}`);
      await assert.rejects(openPostgresStorage(t.config), /is a PostgreSQL superuser/);
    } finally {
      await admin.query(`REVOKE ${t.schema}_su FROM ${t.schema}`);
      await admin.query(`DROP ROLE ${t.schema}_su`);
      await admin.end();
    }
    const storage = await openPostgresStorage(t.config);
    await storage.ping();
    await storage.close();
  });

  it('stops the gateway from starting, while its own roles start it', async () => {
    const t = await createPgTestSchema();
    schemas.push(t);
    const yaml = (url: string) =>
      `storage:\n  driver: postgres\n  url: ${url}\n  readUrl: ${t.readUrl}\n  schema: ${t.schema}\n`;
    await assert.rejects(startTestGateway({ config: yaml(PG_TEST_ADMIN_URL) }), /superuser/);
    const gw = await startTestGateway({ config: yaml(t.writeUrl) });
    try {
      const res = await fetch(new URL('/readyz', gw.gw.mcpUrl));
      assert.equal(res.status, 200);
    } finally {
      await gw.close();
    }
  });
});
