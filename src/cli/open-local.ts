import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../config/index.js';
import { dataDirLayout, isInitialised } from '../data-dir/index.js';
import { PortcullisError } from '../errors/index.js';
import {
  openOAuthForDataDir,
  revocationSignal,
  rotateSigningKeyFile,
  withRevocationFanout,
  type OAuthDatabase,
} from '../oauth/index.js';
import { openSharedState } from '../shared-state/index.js';
import { openStorage, storageConfigSchema, type PinStore, type Storage } from '../storage/index.js';
import { UsageError } from './usage-error.js';

/** Opens the storage of an initialised data directory for an admin command. */
export async function openLocalStorage(dataDir: string): Promise<Storage> {
  if (!isInitialised(dataDir)) {
    throw new UsageError(
      `${dataDir} is not an initialised data directory; run \`portcullis init\` or \`portcullis start\` first.`,
    );
  }
  const config = loadConfig({ file: dataDirLayout(dataDir).config, required: true });
  if (config.storage.driver === 'memory')
    throw new UsageError('storage.driver is memory: there is nothing to manage offline.');
  return openStorage(config.storage, dataDir);
}

/**
 * Opens the pin store of a data directory for `portcullis pins|inventory|policy`: the configured
 * storage of an initialised one; for one without a configuration, its default SQLite file, only
 * if a gateway already made it (a typo in --data-dir creates nothing).
 */
export async function openLocalPins(dataDir: string): Promise<Storage> {
  if (isInitialised(dataDir)) return openLocalStorage(dataDir);
  const storage = storageConfigSchema.parse({});
  if (!fs.existsSync(path.resolve(dataDir, storage.sqliteFile))) {
    throw new UsageError(
      `${dataDir} holds no gateway state; run \`portcullis init\` or \`portcullis start\` first.`,
    );
  }
  return openStorage(storage, dataDir);
}

/** Runs `action` with the data directory's pin store open (openLocalPins), closing it after. */
export async function withLocalPins<T>(dataDir: string, action: (pins: PinStore) => Promise<T>): Promise<T> {
  const storage = await openLocalPins(dataDir);
  try {
    return await action(storage.pins);
  } finally {
    await storage.close();
  }
}

/** The configuration of an initialised data directory (for an admin command working offline). */
function localConfig(dataDir: string, notInitialised: string): Config {
  if (!isInitialised(dataDir)) throw new PortcullisError('data-dir-invalid', notInitialised);
  return loadConfig({ file: dataDirLayout(dataDir).config, required: true });
}

/** Opens the OAuth and user tables of an initialised data directory for an admin command. */
export async function openLocalOAuth(dataDir: string): Promise<OAuthDatabase> {
  const config = localConfig(
    dataDir,
    `${dataDir} is not an initialised data directory; run \`portcullis init\` or \`portcullis start\` first.`,
  );
  const db = await openOAuthForDataDir(dataDir, config.storage);
  // Replicas on Redis skip the revocation epoch while messages arrive: the CLI publishes too, so
  // `grants revoke` / `clients revoke` / `users disable` stop the next call on every replica. A
  // message that cannot be sent is seen through the epoch within a second.
  const shared = openSharedState(config.redis, process.env);
  if (!shared) return db;
  await shared.ready(2000);
  const fanned = withRevocationFanout(db, revocationSignal(shared));
  return {
    ...fanned,
    close: async () => {
      await db.close();
      await shared.close();
    },
  };
}

/**
 * Rotates the OAuth signing keys of an initialised data directory, or the JWK set in `file` (one
 * taken out of a secret store, to be written back there). With `keys.tokenSigning` set, the set
 * in keys.dir is not the one in use, so only an explicit file is rotated.
 */
export function rotateLocalSigningKey(
  dataDir: string,
  now: Date,
  file?: string,
): { added: string; published: string[] } {
  const config = localConfig(dataDir, `${dataDir} is not an initialised data directory.`);
  if (file === undefined && config.keys.tokenSigning) {
    throw new UsageError(
      `the token-signing keys come from keys.tokenSigning (${config.keys.tokenSigning}), not from keys.dir: ` +
        'copy the set out of the secret store, run `portcullis keys rotate-signing --file PATH` on the copy, ' +
        'and write it back; running gateways pick it up within keys.reloadSeconds',
    );
  }
  return rotateSigningKeyFile(file ?? dataDirLayout(dataDir, config.keys.dir).signingKeys, config.oauth, now);
}
