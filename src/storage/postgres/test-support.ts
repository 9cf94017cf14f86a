import { randomBytes } from 'node:crypto';
import { storageConfigSchema } from '../config.js';
import { loadPg, type PgStorageConfig } from './open-pools.js';

/** The test database (trust auth on 127.0.0.1; CI has the same). Overridable for other setups. */
export const PG_TEST_ADMIN_URL =
  process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PgTestSchema {
  /** Storage settings on a fresh schema: the owner/write role and a SELECT-only read role. */
  readonly config: PgStorageConfig;
  readonly schema: string;
  /** The URLs of the two roles, and of the superuser that made them. */
  readonly writeUrl: string;
  readonly readUrl: string;
  readonly adminUrl: string;
  /** Drops the schema and both roles. */
  drop(): Promise<void>;
}

const withUser = (url: string, user: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = '';
  return u.toString();
};

/**
 * A schema `pc_test_<random>` owned by a new non-superuser login role of the same name, and a
 * `<name>_ro` login role the migrations grant SELECT to: every test runs on roles like the ones
 * a deployment uses, never as the superuser (which the gateway refuses).
 */
export async function createPgTestSchema(): Promise<PgTestSchema> {
  const name = `pc_test_${randomBytes(6).toString('hex')}`;
  const { Client } = await loadPg();
  const admin = new Client({ connectionString: PG_TEST_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    await admin.query(`CREATE ROLE ${name}_ro LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    await admin.query(`CREATE SCHEMA ${name} AUTHORIZATION ${name}`);
  } finally {
    await admin.end();
  }
  const writeUrl = withUser(PG_TEST_ADMIN_URL, name);
  const readUrl = withUser(PG_TEST_ADMIN_URL, `${name}_ro`);
  const config = storageConfigSchema.parse({
    driver: 'postgres',
    url: writeUrl,
    readUrl,
    schema: name,
    pool: { max: 4 },
  }) as PgStorageConfig;
  return {
    config,
    schema: name,
    writeUrl,
    readUrl,
    adminUrl: PG_TEST_ADMIN_URL,
    drop: () => dropPgTestSchema(name),
  };
}

export async function dropPgTestSchema(name: string): Promise<void> {
  const { Client } = await loadPg();
  const admin = new Client({ connectionString: PG_TEST_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    for (const role of [name, `${name}_ro`]) {
      await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
    }
  } finally {
    await admin.end();
  }
}
