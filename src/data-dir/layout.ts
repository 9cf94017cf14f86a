import path from 'node:path';
import { CONFIG_FILE_NAME } from '../config/index.js';

/**
 * Where things live inside a data directory. docs/storage.md describes each file. `keysDir` is
 * the configured `keys.dir` (relative to the data directory); `portcullis init` always writes
 * to the default.
 */
export function dataDirLayout(dataDir: string, keysDir = 'keys') {
  const keys = path.resolve(dataDir, keysDir);
  return {
    root: dataDir,
    config: path.join(dataDir, CONFIG_FILE_NAME),
    keys,
    signingKeys: path.join(keys, 'signing-keys.json'),
  };
}
