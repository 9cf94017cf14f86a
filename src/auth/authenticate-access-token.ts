import type { Principal } from './principal.js';
import type { AuthResult, RevocationReason } from './result.js';
import { verifyAccessToken, type VerifiedAccessToken, type VerifyOptions } from './verify-access-token.js';

/**
 * Whether a verified token has been revoked since it was issued: its grant withdrawn, its
 * client revoked. Asked on every request, so revocation stops the very next call instead of
 * waiting for the JWT to expire.
 */
export interface RevocationCheck {
  check(token: VerifiedAccessToken, now: Date): Promise<RevocationReason | undefined>;
}

export interface AccessTokenAuthenticator {
  authenticate(token: string, now: Date): Promise<AuthResult>;
}

/** The principal an OAuth token acts as: nothing in it comes from anywhere but the token. */
function principalFromToken(token: VerifiedAccessToken): Principal {
  return {
    subject: token.subject,
    tenant: token.tenant ?? token.subject,
    credentialId: token.jti,
    authMethod: 'oauth',
    scopes: token.scopes,
    clientId: token.clientId,
    // Stable across refreshes of one grant, distinct per client and person.
    binding: `oauth:${JSON.stringify([token.clientId, token.subject])}`,
    expiresAt: token.expiresAt,
    ...(isClientCredentials(token) ? { clientCredentials: true } : {}),
  };
}

/**
 * A token no person granted: no grant behind it and the client as its subject (RFC 9068 §2.2:
 * without a resource owner, `sub` SHOULD identify the client). The built-in authorization
 * server puts a `grant_id` in every token a person consented to.
 */
function isClientCredentials(token: VerifiedAccessToken): boolean {
  return token.grantId === undefined && token.subject === token.clientId;
}

/** The resource server's check of a Bearer JWT: verify, then revocation, then the principal. */
export function createAccessTokenAuthenticator(deps: {
  verify: VerifyOptions;
  revocation: RevocationCheck;
}): AccessTokenAuthenticator {
  return {
    async authenticate(token, now) {
      const verified = await verifyAccessToken(token, deps.verify, now);
      if (!verified.ok) return { ok: false, reason: verified.reason };
      const revoked = await deps.revocation.check(verified.token, now);
      if (revoked) return { ok: false, reason: revoked, credentialId: verified.token.jti };
      return { ok: true, principal: principalFromToken(verified.token) };
    },
  };
}
