import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `pcs_<id>_<secret>`: a recognisable prefix (so secret scanners and our own
 * redactor can spot a leaked key), a public id used to find the record, and 256 random bits.
 * Only a SHA-256 of the whole key is stored; a key this random needs no slow hash.
 */
export const API_KEY_PREFIX = 'pcs_';
const KEY_PATTERN = /^pcs_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedApiKey {
  readonly id: string;
  readonly key: string;
  readonly hash: string;
}

// One-shot `hash` (not a Hash object per call): this runs on every request with an API key.
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

function randomId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  // 16 chars from 36 symbols; modulo bias is irrelevant for an identifier that is not secret.
  return [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function generateApiKey(): GeneratedApiKey {
  const id = randomId();
  const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: hashApiKey(key) };
}

/** The id part of a well-formed key, or undefined for anything else. */
export function parseApiKeyId(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1];
}

/** Constant-time comparison of a presented key with a stored hash. */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
