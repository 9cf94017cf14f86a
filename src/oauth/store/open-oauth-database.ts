import path from 'node:path';
import { migrate } from '../../migrate/index.js';
import { openSqliteDatabase, openSqliteReadConnection, type StorageConfig } from '../../storage/index.js';
import { asPgConfig, migratePgComponents, openPgPools, type PgStorageConfig } from '../../storage/index.js';
import { createPostgresUserStore, USERS_PG_SCHEMA } from '../../users/index.js';
import { createPostgresOAuthStore, OAUTH_PG_SCHEMA } from './postgres-store.js';
import {
  createSqliteUserStore,
  openMemoryUserStore,
  USER_MIGRATIONS,
  type UserStore,
} from '../../users/index.js';
import type { OAuthStore } from './contracts.js';
import { openMemoryOAuthStore } from './memory-store.js';
import { createSqliteOAuthStore, OAUTH_MIGRATIONS } from './sqlite-store.js';

/** The OAuth and user stores, opened together on one backend. */
export interface OAuthDatabase {
  readonly oauth: OAuthStore;
  readonly users: UserStore;
  close(): Promise<void>;
}

/**
 * Opens the OAuth and user tables in the gateway's SQLite file, on a connection of their own (WAL
 * lets it sit beside the core storage's connection and the CLI's).
 */
export function openSqliteOAuthDatabase(file: string): OAuthDatabase {
  const db = openSqliteDatabase(file, (conn) => {
    migrate(conn, { component: 'oauth', migrations: OAUTH_MIGRATIONS });
    migrate(conn, { component: 'users', migrations: USER_MIGRATIONS });
  });
  // Look-ups go through a connection opened read-only (a write through it fails at SQLite).
  const read = openSqliteReadConnection(file);
  return {
    oauth: createSqliteOAuthStore(db, read),
    users: createSqliteUserStore(db, read),
    close: async () => {
      read.close();
      db.close();
    },
  };
}

export function openMemoryOAuthDatabase(): OAuthDatabase {
  return { oauth: openMemoryOAuthStore(), users: openMemoryUserStore(), close: async () => {} };
}

/** The OAuth and user tables in PostgreSQL: migrated over the owner connection, then on their own pools. */
export async function openPostgresOAuthDatabase(
  config: PgStorageConfig,
  env?: NodeJS.ProcessEnv,
): Promise<OAuthDatabase> {
  await migratePgComponents(config, [OAUTH_PG_SCHEMA, USERS_PG_SCHEMA], env ? { env } : {});
  const pools = await openPgPools(config, env);
  return {
    oauth: createPostgresOAuthStore(pools.write, pools.read),
    users: createPostgresUserStore(pools.write, pools.read),
    close: () => pools.close(),
  };
}

/** The OAuth and user stores on the backend the `storage` section names, beside the core tables. */
export async function openOAuthDatabase(storage: StorageConfig, dataDir: string): Promise<OAuthDatabase> {
  switch (storage.driver) {
    case 'memory':
      return openMemoryOAuthDatabase();
    case 'postgres':
      return openPostgresOAuthDatabase(asPgConfig(storage));
    case 'sqlite':
      return openSqliteOAuthDatabase(path.resolve(dataDir, storage.sqliteFile));
  }
}
