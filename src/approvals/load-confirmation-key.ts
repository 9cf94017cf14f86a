import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The key that signs confirmation request states: 32 random bytes generated into
 * `<dataDir>/keys/confirmation-key` (mode 0600) on first use and never written anywhere else.
 * Replicas that share a data directory (or a copy of the file) verify each other's states.
 */
export function loadConfirmationKey(keysDir: string): Buffer {
  const file = path.join(keysDir, 'confirmation-key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
  if (key.length < 32) throw new Error(`${file} must hold at least 32 bytes (base64url)`);
  return key;
}
