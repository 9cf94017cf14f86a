import path from 'node:path';
import type { StorageConfig } from './config.js';
import type { Storage } from './contracts.js';
import { openMemoryStorage } from './memory/open-memory.js';
import { asPgConfig, openPostgresStorage } from './postgres/index.js';
import { openSqliteStorage } from './sqlite/open-sqlite.js';

export { storageConfigSchema, type StorageConfig } from './config.js';
export type * from './contracts.js';
export { EFFECT_JOURNAL_RETENTION_MS } from './contracts.js';
export { isStorageOutage, STORAGE_RETRY_AFTER_SECONDS } from './is-outage.js';
export { openMemoryStorage, openPostgresStorage, openSqliteStorage };
export { openSqliteDatabase, openSqliteReadConnection } from './sqlite/open-database.js';
export { createRevisionCache, type RevisionCache } from './sqlite/revision-cache.js';

/** Opens the backend the configuration names. */
export async function openStorage(config: StorageConfig, dataDir: string): Promise<Storage> {
  switch (config.driver) {
    case 'memory':
      return openMemoryStorage();
    case 'sqlite':
      return openSqliteStorage(path.resolve(dataDir, config.sqliteFile));
    case 'postgres':
      return openPostgresStorage(asPgConfig(config));
  }
}
export {
  asPgConfig,
  CORE_PG_SCHEMA,
  inspectPgRoles,
  inTransaction,
  migratePgComponents,
  openPgPools,
  type PgPools,
  type PgRoleReport,
  type PgStorageConfig,
} from './postgres/index.js';
export { CORE_SCHEMA } from './sqlite/migrations.js';
/** For the contract suites of other folders' PostgreSQL stores: a throwaway schema and roles. */
export { createPgTestSchema, type PgTestSchema } from './postgres/test-support.js';
