/**
 * The OAuth store: what the authorization server keeps. oidc-provider's models (sessions,
 * interactions, codes, refresh tokens, grants, registered clients…) are opaque JSON payloads
 * keyed by model and id, with the few fields it looks them up by lifted into columns; beside
 * them, the list of revoked clients and a revocation epoch the resource server's cache watches.
 *
 * Every backend passes the one contract suite in store.contract.test.ts.
 */

/** An oidc-provider model payload; only the fields the store indexes are typed. */
export interface ModelPayload {
  readonly [key: string]: unknown;
  readonly grantId?: string;
  readonly uid?: string;
  readonly userCode?: string;
  readonly accountId?: string;
  readonly clientId?: string;
  readonly consumed?: number;
}

/** A grant as the connected-apps page and `grants list` show it. */
export interface GrantSummary {
  readonly id: string;
  readonly accountId: string;
  readonly clientId: string;
  /** Resource-server scopes granted, per resource indicator. */
  readonly scopes: readonly string[];
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
}

export interface OAuthStore {
  upsert(model: string, id: string, payload: ModelPayload, expiresAt: Date | null): Promise<void>;
  /** The payload, or undefined when absent or expired at `now`. */
  find(model: string, id: string, now: Date): Promise<ModelPayload | undefined>;
  findByUid(model: string, uid: string, now: Date): Promise<ModelPayload | undefined>;
  findByUserCode(model: string, userCode: string, now: Date): Promise<ModelPayload | undefined>;
  /** Marks the entry consumed (one-time artefacts such as codes and rotated refresh tokens). */
  consume(model: string, id: string, at: Date): Promise<void>;
  /** Deletes one entry. Deleting a Grant or a Client advances the revocation epoch. */
  destroy(model: string, id: string): Promise<void>;
  /** Deletes every artefact of a grant (tokens, codes, the grant); advances the revocation epoch. */
  revokeByGrantId(grantId: string): Promise<void>;
  /** Live grants, newest first, optionally only one account's or one client's. */
  listGrants(filter: { accountId?: string; clientId?: string }, now: Date): Promise<GrantSummary[]>;
  /** Every stored (registered or operator-created) client's metadata. */
  listClients(): Promise<ModelPayload[]>;
  /**
   * Live clients that registered themselves (Dynamic Client Registration): every stored client
   * whose metadata has no `portcullis_created_by`. The registration cap counts these.
   */
  countRegisteredClients(now: Date): Promise<number>;
  /**
   * A person completed an authorization with this client: its rows stop expiring — the
   * registration (`Client`) and the record that a metadata-document client was first seen
   * (`SeenMetadataDocument`). Both are stored with an expiry, so unused ones are pruned.
   */
  markClientUsed(clientId: string): Promise<void>;
  /**
   * Revokes a client for good: its registration, every grant and token are deleted and its id
   * is remembered (so a metadata-document client cannot simply come back). Advances the epoch.
   * Returns false when the id was neither stored nor seen in a grant.
   */
  revokeClient(clientId: string, at: Date): Promise<boolean>;
  isClientRevoked(clientId: string): Promise<boolean>;
  /**
   * A number that changes whenever anything is revoked, by this process or another one sharing
   * the backend (the CLI). Caches of "still valid" answers are dropped when it moves.
   */
  revocationEpoch(): Promise<number>;
  /** Deletes entries expired at `now` (find already ignores them); returns how many. */
  purgeExpired(now: Date): Promise<number>;
  close(): Promise<void>;
}
