import type { RevocationCheck, RevocationReason, VerifiedAccessToken } from '../auth/index.js';
import { isOperatorClient } from './client-metadata.js';
import type { OAuthStore } from './store/index.js';

export interface RevocationCheckOptions {
  /**
   * Built-in AS: a token for a person must name a grant that still exists (withdrawing consent,
   * refresh-token reuse and `grants revoke` delete it), and a token with no grant — client
   * credentials — must belong to a client an operator created. External AS: grants and clients
   * live elsewhere, so only the revoked-client list is checked here.
   */
  readonly requireGrant: boolean;
  /** Most cached "still valid" answers kept. */
  readonly maxEntries?: number;
}

/**
 * The resource server's revocation check, run on every request after the JWT verifies.
 *
 * "Still valid" answers are cached per grant (or per client for client-credentials tokens). The
 * cache is dropped whenever the store's revocation epoch moves, and every revocation — by this
 * process, or by the CLI in another process sharing the database — moves it. So a revocation
 * stops the very next call, and a valid token costs one epoch read instead of two lookups.
 * (The scale-out issue replaces the epoch read with a pushed invalidation across replicas.)
 */
export function createRevocationCheck(store: OAuthStore, opts: RevocationCheckOptions): RevocationCheck {
  const maxEntries = opts.maxEntries ?? 10_000;
  let epoch: number | undefined;
  let valid = new Map<string, number>(); // key → expiry (ms) of the cached answer

  async function decide(token: VerifiedAccessToken, now: Date): Promise<RevocationReason | undefined> {
    if (await store.isClientRevoked(token.clientId)) return 'client-revoked';
    if (token.grantId !== undefined) {
      const grant = await store.find('Grant', token.grantId, now);
      if (!grant || grant.clientId !== token.clientId || grant.accountId !== token.subject)
        return 'token-revoked';
      return undefined;
    }
    if (!opts.requireGrant) return undefined;
    // Client credentials: the client acts for itself (sub = client_id) and holds no grant. The
    // token endpoint issues these only to operator-created clients; a token minted any other way
    // (an old registration, a leaked key, a bug) still fails here.
    if (token.subject !== token.clientId) return 'token-revoked';
    if (!isOperatorClient(await store.find('Client', token.clientId, now))) return 'client-not-operator';
    return undefined;
  }

  return {
    async check(token, now) {
      const current = await store.revocationEpoch();
      if (current !== epoch) {
        epoch = current;
        valid = new Map();
      }
      const key = token.grantId !== undefined ? `g:${token.grantId}` : `c:${token.clientId}:${token.subject}`;
      const until = valid.get(key);
      if (until !== undefined && until > now.getTime()) return undefined;
      const reason = await decide(token, now);
      if (reason === undefined) {
        if (valid.size >= maxEntries) valid.delete(valid.keys().next().value!);
        // Never cache beyond the token's own life: the next token re-checks.
        valid.set(key, token.expiresAt.getTime());
      }
      return reason;
    },
  };
}
