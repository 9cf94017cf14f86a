import path from 'node:path';
import { PortcullisError } from '../errors/index.js';
import type { StorageConfig } from '../storage/index.js';
import { openOAuthDatabase, openSqliteOAuthDatabase, type OAuthDatabase } from './store/index.js';

/**
 * Opens the OAuth and user tables of a data directory's storage for an admin command (users,
 * clients, grants). The running gateway keeps working meanwhile: SQLite in WAL mode takes both
 * connections, and revocations reach it through the revocation epoch.
 */
export async function openOAuthForDataDir(dataDir: string, storage: StorageConfig): Promise<OAuthDatabase> {
  if (storage.driver === 'memory') {
    throw new PortcullisError(
      'config-invalid',
      'storage.driver is memory: there is nothing to manage offline.',
    );
  }
  if (storage.driver === 'postgres') return openOAuthDatabase(storage, dataDir);
  return openSqliteOAuthDatabase(path.resolve(dataDir, storage.sqliteFile));
}
