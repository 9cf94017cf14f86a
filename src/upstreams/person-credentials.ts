import type { Principal } from '../auth/index.js';

/**
 * The seam between upstreams/ and the connections capability: at call time, the calling person's
 * own credential for an upstream with `auth`. Implemented by connections/ (vault, store,
 * refresh); upstreams/ only injects what it is given, into that person's session.
 */
export type PersonCredential =
  /** The person's own: `value` goes into their session only (stdio env, or the http header). */
  | {
      readonly kind: 'person';
      readonly connectionId: string;
      readonly upstreamSubject: string | null;
      /** The header value (with its scheme) or the environment value. */
      readonly value: string;
    }
  /** No connection, and the operator configured `fallback: shared`. */
  | { readonly kind: 'shared' }
  /** No usable connection: `message` tells the model what to ask the person (with the connect URL). */
  | {
      readonly kind: 'none';
      readonly message: string;
      readonly reason: 'missing' | 'expired' | 'broken' | 'no-person';
    };

export interface PersonCredentialSource {
  resolve(upstream: string, principal: Principal, signal?: AbortSignal): Promise<PersonCredential>;
  /**
   * The upstream refused the credential (HTTP 401): a person-oauth connection is refreshed at the
   * next `resolve`, and marked broken if that fails; a pasted key is marked broken at once.
   */
  refused(upstream: string, connectionId: string, detail: string): Promise<void>;
}

/** What a call went out with, for the audit record: never the credential itself. */
export interface UpstreamIdentity {
  readonly connectionId: string;
  readonly upstreamSubject: string | null;
}
