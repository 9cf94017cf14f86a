import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { resolveSecretAsync, type SecretRef, type VaultClient } from '../secrets/index.js';
import { parseKek } from './vault.js';

export const KEK_FILE_NAME = 'connections-kek';

/** The default KEK's file: `<dataDir>/keys/connections-kek`, 32 random bytes base64url, mode 0600. */
export function kekFile(keysDir: string): string {
  return path.join(keysDir, KEK_FILE_NAME);
}

/**
 * The key-encryption key of the vault: from the configured reference, or from keys/ (made on
 * first use). A reference that cannot be resolved or is not 32 bytes stops the start.
 */
export async function loadKek(opts: {
  readonly ref: SecretRef | undefined;
  readonly keysDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly vault?: VaultClient;
}): Promise<Buffer> {
  if (opts.ref) {
    const value = await resolveSecretAsync(opts.ref, {
      env: opts.env,
      ...(opts.vault ? { vault: opts.vault } : {}),
    });
    return parseKek(value, opts.ref);
  }
  const file = kekFile(opts.keysDir);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(opts.keysDir, { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return parseKek(fs.readFileSync(file, 'utf8'), file);
}

/**
 * Rotation of the default KEK file: a new random key, handed to `wrap` (which stores the data
 * key under it) before the file is atomically replaced, so the file on disk always holds a key
 * that opens the vault.
 */
export async function writeNewKekFile<T>(keysDir: string, wrap: (key: Buffer) => Promise<T>): Promise<T> {
  const key = randomBytes(32);
  const result = await wrap(key);
  const file = kekFile(keysDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  return result;
}
