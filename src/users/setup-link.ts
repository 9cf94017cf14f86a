import { createHash, randomBytes } from 'node:crypto';
import type { UserStore } from './contracts.js';

/** How long a setup link works: long enough to open it, short enough to be useless when leaked later. */
export const SETUP_LINK_TTL_MS = 15 * 60_000;

/** `psl_` and 32 random bytes: 256 bits, so the link cannot be guessed, only throttled guesses tried. */
export const SETUP_TOKEN_PATTERN = /^psl_[A-Za-z0-9_-]{43}$/;

/** What the store keeps of a token: its SHA-256, so a database reader cannot use a live link. */
export const setupTokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Makes a new one-time setup link for a person (replacing any earlier one) and returns its token,
 * shown once. The page at `/setup/<token>` lets them set a password, once, within 15 minutes.
 */
export async function issueSetupLink(
  users: UserStore,
  userName: string,
  now: Date,
): Promise<{ token: string; expiresAt: Date }> {
  const token = `psl_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(now.getTime() + SETUP_LINK_TTL_MS);
  await users.createSetupLink({ tokenHash: setupTokenHash(token), userName, createdAt: now, expiresAt });
  return { token, expiresAt };
}

/** The page a setup link opens. */
export const setupLinkUrl = (base: URL | string, token: string): string =>
  new URL(`/setup/${token}`, base).href;
