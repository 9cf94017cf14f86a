import type { RevocationCheck, RevocationReason, VerifiedAccessToken } from '../auth/index.js';
import { isOperatorClient } from './client-metadata.js';
import type { RevocationSignal } from './revocation-fanout.js';
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
  /** Revocations pushed by other replicas (Redis); without it the epoch is read on every call. */
  readonly signal?: RevocationSignal | undefined;
  readonly now?: () => number;
}

/**
 * Longest the epoch goes unread while revocation messages are trusted: bounds how late a
 * revocation whose message was lost (a writer that could not reach Redis) is seen.
 */
const TRUST_EPOCH_MS = 1000;

/**
 * The resource server's revocation check, run on every request after the JWT verifies.
 *
 * "Still valid" answers are cached per grant (or per client for client-credentials tokens). The
 * cache is dropped whenever the store's revocation epoch moves, and every revocation — by this
 * process, or by the CLI in another process sharing the database — moves it. So a revocation
 * stops the very next call, and a valid token costs one epoch read instead of two lookups.
 *
 * With replicas on Redis, every revocation is also published (revocation-fanout.ts) and a
 * message drops the cache at once. While the subscription is known fresh (`signal.fresh()`:
 * subscribed, and Redis answered its heartbeat within the last second), a call skips the epoch
 * read, and the epoch is read at least every second anyway. When Redis is down or the
 * subscription dropped, `fresh()` is false and every call reads the epoch again, as without
 * Redis: a revocation still stops the next call.
 */
export function createRevocationCheck(store: OAuthStore, opts: RevocationCheckOptions): RevocationCheck {
  const maxEntries = opts.maxEntries ?? 10_000;
  const clock = opts.now ?? Date.now;
  let epoch: number | undefined;
  let epochReadAt = 0;
  let valid = new Map<string, number>(); // key → expiry (ms) of the cached answer
  // A message, or a lost or regained subscription: forget everything, read the epoch next call.
  opts.signal?.onInvalidate(() => {
    epoch = undefined;
    valid = new Map();
  });

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
      const at = clock();
      const trusted =
        epoch !== undefined && opts.signal?.fresh() === true && at - epochReadAt < TRUST_EPOCH_MS;
      if (!trusted) {
        const current = await store.revocationEpoch();
        epochReadAt = at;
        if (current !== epoch) {
          epoch = current;
          valid = new Map();
        }
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
