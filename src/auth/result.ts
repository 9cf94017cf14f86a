// What authenticating one request yields, shared by every way of authenticating (API key,
// access token) so neither authenticator imports the other for its types.
import type { Principal } from './principal.js';
import type { TokenFailureReason } from './verify-access-token.js';

/**
 * Why a token that verified is nevertheless refused. `client-not-operator`: a client-credentials
 * token (it acts for no person) whose client no operator created.
 */
export type RevocationReason = 'token-revoked' | 'client-revoked' | 'client-not-operator';

/**
 * Why authentication failed. Stored verbatim in logs and the audit record; on the wire every
 * case but `credential-missing` collapses to one generic `invalid_token`, so a prober cannot
 * tell an unknown key from a revoked or expired one.
 */
export type AuthFailureReason =
  | 'credential-missing'
  | 'credential-malformed'
  | 'credential-in-query'
  | 'credential-unknown'
  | 'credential-revoked'
  | 'credential-expired'
  | TokenFailureReason
  | RevocationReason;

export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly credentialId?: string };
