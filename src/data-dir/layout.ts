import path from 'node:path';
import { CONFIG_FILE_NAME } from '../config/index.js';

/** Where things live inside a data directory. docs/storage.md describes each file. */
export function dataDirLayout(dataDir: string) {
  return {
    root: dataDir,
    config: path.join(dataDir, CONFIG_FILE_NAME),
    keys: path.join(dataDir, 'keys'),
    signingKeys: path.join(dataDir, 'keys', 'signing-keys.json'),
  };
}
