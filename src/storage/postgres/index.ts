import { PortcullisError } from '../../errors/index.js';
import type { StorageConfig } from '../config.js';
import type { PgStorageConfig } from './open-pools.js';

export {
  inTransaction,
  openPgPools,
  poolConfig,
  refuseSuperuser,
  resolvePgUrl,
  roleFacts,
  type PgPools,
  type PgStorageConfig,
  type RoleFacts,
} from './open-pools.js';
export { migratePgComponents } from './migrate-with.js';
export { CORE_PG_SCHEMA } from './migrations.js';
export { createPostgresStorage, openPostgresStorage } from './open-postgres.js';

/** The storage section as PostgreSQL settings; the schema already requires `url` for this driver. */
export function asPgConfig(config: StorageConfig): PgStorageConfig {
  if (config.driver !== 'postgres' || !config.url) {
    throw new PortcullisError('config-invalid', 'storage.driver postgres needs storage.url.');
  }
  return config as PgStorageConfig;
}
export { inspectPgRoles, type PgRoleReport } from './inspect-roles.js';
