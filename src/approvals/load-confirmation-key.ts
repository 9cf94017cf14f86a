import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PortcullisError } from '../errors/index.js';

/**
 * The key that signs confirmation request states: 32 random bytes generated into
 * `<dataDir>/keys/confirmation-key` (mode 0600) on first use and never written anywhere else.
 * Replicas that share a data directory (or a copy of the file) verify each other's states; or
 * it comes from a secret reference (`keys.confirmation`), resolved by the caller.
 */
export function loadConfirmationKey(keysDir: string, given?: string): Buffer {
  if (given !== undefined) return checked(given, 'keys.confirmation');
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
  return checked(fs.readFileSync(file, 'utf8'), file);
}

function checked(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64url');
  if (key.length < 32) {
    throw new PortcullisError('config-invalid', `${source} must hold at least 32 bytes (base64url).`);
  }
  return key;
}
