import type { OAuthConfig } from './config.js';
import { generateSigningKey, readSigningKeys, rotateSigningKeys, writeSigningKeys } from './signing-keys.js';

/** The longest-lived thing a signing key signs: an ID token (1 h) or an access token. */
const ID_TOKEN_TTL_SECONDS = 3600;

/**
 * How long a retired key stays published and verifies: the longest lifetime of anything it can
 * have signed, plus the clock tolerance and a minute.
 */
export function retiredKeyRetentionMs(
  config: Pick<OAuthConfig, 'accessTokenTtlSeconds' | 'clockToleranceSeconds'>,
): number {
  const { accessTokenTtlSeconds, clockToleranceSeconds } = config;
  return (Math.max(accessTokenTtlSeconds, ID_TOKEN_TTL_SECONDS) + clockToleranceSeconds + 60) * 1000;
}

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
  const retainMs = retiredKeyRetentionMs(config);
  const next = rotateSigningKeys(readSigningKeys(file), generateSigningKey(now), now, retainMs);
  writeSigningKeys(file, next);
  return { added: next[0]!.kid, published: next.map((k) => k.kid) };
}
