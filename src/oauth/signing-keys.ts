import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { JWK } from 'jose';
import { PortcullisError } from '../errors/index.js';

/**
 * The authorization server's token-signing keys (ES256), kept in `keys/signing-keys.json` as a
 * private JWK set, newest first: oidc-provider signs with the first key of the algorithm, and
 * every key stays published in the JWKS so tokens signed before a rotation still verify.
 */
export interface StoredSigningKey extends JWK {
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
  readonly createdAt: string;
  /** When a newer key took over; the key is dropped once no token it signed can still be valid. */
  readonly retiredAt?: string;
}

/** Parses a private ES256 JWK set; `label` (a path or a reference, never a value) names it in errors. */
export function parseSigningKeys(text: string, label: string): StoredSigningKey[] {
  try {
    const set = JSON.parse(text) as { keys?: unknown };
    if (!Array.isArray(set.keys) || set.keys.length === 0) throw new Error('no keys');
    for (const k of set.keys as StoredSigningKey[]) {
      if (k.kty !== 'EC' || k.crv !== 'P-256' || !k.d || typeof k.kid !== 'string' || k.alg !== 'ES256') {
        throw new Error(`key ${String(k.kid)} is not an ES256 private key with a kid`);
      }
    }
    return set.keys as StoredSigningKey[];
  } catch (err) {
    throw new PortcullisError(
      'config-invalid',
      `The signing key set ${label} is not a valid ES256 JWK set.`,
      {
        detail: String(err),
        cause: err,
      },
    );
  }
}

export function readSigningKeys(file: string): StoredSigningKey[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new PortcullisError('config-invalid', `Cannot read the signing key file ${file}.`, {
      detail: String(err),
      cause: err,
    });
  }
  return parseSigningKeys(text, file);
}

/**
 * The secrets the signing key file holds (the private parts `d`), which the redactor must never
 * let out: a model asked to "print the key file" through some tool would otherwise be one step
 * from forging tokens. Lenient on purpose: a missing file holds no secret, and a malformed one is
 * refused later, by the authorization server that reads it.
 */
export function readSigningSecrets(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const set = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys?: { d?: unknown }[] };
  return (set.keys ?? []).map((k) => k.d).filter((d): d is string => typeof d === 'string');
}

/** Private JWKs without our bookkeeping fields, as oidc-provider's `jwks` wants them. */
export function toProviderJwks(keys: readonly StoredSigningKey[]): { keys: JWK[] } {
  return { keys: keys.map(({ createdAt: _c, retiredAt: _r, ...jwk }) => jwk) };
}

/** Public JWKs only: what the resource server verifies with. */
export function toPublicJwks(keys: readonly StoredSigningKey[]): { keys: JWK[] } {
  return { keys: keys.map(({ kty, crv, x, y, kid, alg, use }) => ({ kty, crv, x, y, kid, alg, use })) };
}

export function generateSigningKey(now: Date): StoredSigningKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    ...(privateKey.export({ format: 'jwk' }) as JWK),
    kid: randomBytes(12).toString('base64url'),
    alg: 'ES256',
    use: 'sig',
    createdAt: now.toISOString(),
  };
}

/**
 * The key set after a rotation at `now`: a new key first, the previous current key marked
 * retired, and retired keys dropped once `retainMs` (the longest lifetime of anything they
 * signed) has passed since their retirement. Pure: the caller reads and writes the file.
 */
export function rotateSigningKeys(
  keys: readonly StoredSigningKey[],
  fresh: StoredSigningKey,
  now: Date,
  retainMs: number,
): StoredSigningKey[] {
  const kept = keys
    .map((k) => (k.retiredAt ? k : { ...k, retiredAt: now.toISOString() }))
    .filter((k) => now.getTime() - Date.parse(k.retiredAt ?? now.toISOString()) < retainMs);
  return [fresh, ...kept];
}

/** Writes the key set atomically (write then rename), readable only by the owner. */
export function writeSigningKeys(file: string, keys: readonly StoredSigningKey[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
