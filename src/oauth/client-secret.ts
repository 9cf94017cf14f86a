import { createHash, randomBytes } from 'node:crypto';

/**
 * Client secrets are 256 random bits, stored as `sha256$<hex>`: a secret that random needs no
 * slow hash (the same reasoning as API keys), and a database reader learns nothing usable.
 */
export function hashClientSecret(secret: string): string {
  return `sha256$${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}
