import path from 'node:path';
import type { StorageConfig } from '../storage/index.js';
import { asPgConfig } from '../storage/index.js';
import { openPostgresAuditStore } from './postgres-store.js';
import { openSqliteAuditStore } from './sqlite-store.js';
import type { AuditStore } from './store.js';

/**
 * The audit store the configuration names: on `storage.driver: postgres` the audit tables live
 * in the same PostgreSQL schema (every replica appends to one chain); otherwise the SQLite file
 * `audit.file` in the data directory (also for `memory`, as before: the audit log is durable).
 */
export async function openAuditStore(
  storage: StorageConfig,
  auditFile: string,
  dataDir: string,
): Promise<AuditStore> {
  if (storage.driver === 'postgres') return openPostgresAuditStore(asPgConfig(storage));
  return openSqliteAuditStore({ file: path.resolve(dataDir, auditFile) });
}
