import { loadConfig } from '../config/index.js';
import { dataDirLayout, isInitialised } from '../data-dir/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { UsageError } from './usage-error.js';

/** Opens the storage of an initialised data directory for an admin command. */
export function openLocalStorage(dataDir: string): Storage {
  if (!isInitialised(dataDir)) {
    throw new UsageError(
      `${dataDir} is not an initialised data directory; run \`portcullis init\` or \`portcullis start\` first.`,
    );
  }
  const config = loadConfig({ file: dataDirLayout(dataDir).config, required: true });
  if (config.storage.driver === 'memory')
    throw new UsageError('storage.driver is memory: there is nothing to manage offline.');
  return openStorage(config, dataDir);
}
