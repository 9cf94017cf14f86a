import path from 'node:path';
import { loadConfig } from '../config/index.js';
import { dataDirLayout, isInitialised } from '../data-dir/index.js';
import { PortcullisError } from '../errors/index.js';
import { openSqliteOAuthDatabase, type OAuthDatabase } from './store/index.js';

/**
 * Opens the OAuth and user tables of an initialised data directory for an admin command
 * (users, clients, grants). The running gateway keeps working meanwhile: SQLite in WAL mode
 * takes both connections, and revocations reach it through the revocation epoch.
 */
export function openOAuthForDataDir(dataDir: string): OAuthDatabase {
  if (!isInitialised(dataDir)) {
    throw new PortcullisError(
      'data-dir-invalid',
      `${dataDir} is not an initialised data directory; run \`portcullis init\` or \`portcullis start\` first.`,
    );
  }
  const config = loadConfig({ file: dataDirLayout(dataDir).config, required: true });
  if (config.storage.driver === 'memory') {
    throw new PortcullisError(
      'config-invalid',
      'storage.driver is memory: there is nothing to manage offline.',
    );
  }
  return openSqliteOAuthDatabase(path.resolve(dataDir, config.storage.sqliteFile));
}
