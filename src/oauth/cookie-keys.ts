import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { resolveSecret, type SecretRef } from '../secrets/index.js';

/**
 * Keys that sign cookies (oidc-provider's session and interaction cookies, our CSRF and
 * account-session cookies), newest first. From secret references when configured; otherwise a
 * key generated once into `keys/cookie-keys.json`, never into the configuration.
 */
export function loadCookieKeys(
  refs: readonly SecretRef[],
  keysDir: string,
  env: NodeJS.ProcessEnv,
): string[] {
  if (refs.length > 0) return refs.map((r) => resolveSecret(r, env));
  const file = path.join(keysDir, 'cookie-keys.json');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${JSON.stringify({ keys: [randomBytes(32).toString('base64url')] })}\n`, {
        mode: 0o600,
        flag: 'wx',
      });
    } catch (err) {
      // Another process (a parallel CLI call) created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { keys: string[] }).keys;
}
