import type { OAuthConfig } from './config.js';
import { generateSigningKey, readSigningKeys, rotateSigningKeys, writeSigningKeys } from './signing-keys.js';

/** The longest-lived thing a signing key signs: an ID token (1 h) or an access token. */
const ID_TOKEN_TTL_SECONDS = 3600;

/**
 * `portcullis keys rotate-signing`: a new key goes first (oidc-provider signs with it after the
 * next start), the previous one is marked retired and stays published until every token it can
 * have signed has expired, and keys retired longer ago than that are dropped.
 */
export function rotateSigningKeyFile(
  file: string,
  config: Pick<OAuthConfig, 'accessTokenTtlSeconds' | 'clockToleranceSeconds'>,
  now: Date,
): { added: string; published: string[] } {
  const { accessTokenTtlSeconds, clockToleranceSeconds } = config;
  const retainMs =
    (Math.max(accessTokenTtlSeconds, ID_TOKEN_TTL_SECONDS) + clockToleranceSeconds + 60) * 1000;
  const next = rotateSigningKeys(readSigningKeys(file), generateSigningKey(now), now, retainMs);
  writeSigningKeys(file, next);
  return { added: next[0]!.kid, published: next.map((k) => k.kid) };
}
