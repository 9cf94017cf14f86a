/**
 * People who log in to the authorization server: local users (a password hash) and accounts
 * created on first federated login (an identity provider's issuer and subject). The account
 * name is the OAuth `sub` and owns the person's data; the tenant says whose data it reaches.
 */
export interface UserRecord {
  readonly name: string;
  readonly tenant: string;
  /** `scrypt$…` (see password.ts); null for federated accounts, which have no password here. */
  readonly passwordHash: string | null;
  /** For federated accounts: the identity provider's issuer and its subject for this person. */
  readonly federatedIssuer: string | null;
  readonly federatedSubject: string | null;
  /**
   * The person's role (a `policy.roles` name, or a built-in one): the ceiling of every scope
   * their tokens and API keys carry. Null: no role, so no tool scopes at all. Local people get
   * one from the CLI; federated people from `oauth.federation.roles` at every sign-in.
   */
  readonly role: string | null;
  readonly createdAt: Date;
  readonly disabledAt: Date | null;
  readonly lastLoginAt: Date | null;
}

/**
 * A signed-in browser on the account pages (connected apps). Only a hash of the session id is
 * stored, so a database reader cannot ride a session.
 */
export interface AccountSession {
  readonly idHash: string;
  readonly userName: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/**
 * A one-time link where a person sets their password (the first run's `admin`, or anyone after
 * `portcullis users reset-link`). Only a hash of the link's token is stored; it works once,
 * until `expiresAt`.
 */
export interface SetupLink {
  readonly tokenHash: string;
  readonly userName: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

export interface UserStore {
  /** Throws when the name is taken. */
  insert(user: UserRecord): Promise<void>;
  find(name: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  /** Returns false when no such user exists. Idempotent; the first time is kept. */
  disable(name: string, at: Date): Promise<boolean>;
  /** Returns false when no such user exists. */
  setRole(name: string, role: string | null): Promise<boolean>;
  recordLogin(name: string, at: Date): Promise<void>;
  createSession(session: AccountSession): Promise<void>;
  /** The session, or undefined when unknown or expired at `now`. */
  findSession(idHash: string, now: Date): Promise<AccountSession | undefined>;
  deleteSession(idHash: string): Promise<void>;
  /** Ends every session of a user (disabling a user signs them out everywhere). */
  deleteSessionsOf(userName: string): Promise<void>;
  /**
   * Deletes the user with their sessions and setup links (erasure: `users delete`); false when no
   * such user exists. Their API keys, grants and connections are other stores' (see the CLI).
   */
  delete(name: string): Promise<boolean>;
  /** Returns false when no such user exists. */
  setPassword(name: string, passwordHash: string): Promise<boolean>;
  /** Stores a new setup link and drops every earlier one of the same person (one live link each). */
  createSetupLink(link: SetupLink): Promise<void>;
  /** The link, when it exists, is unused and unexpired at `now`. */
  findSetupLink(tokenHash: string, now: Date): Promise<SetupLink | undefined>;
  /**
   * Marks the link used if it is unused and unexpired at `now`, and returns its person; undefined
   * otherwise. Atomic: of two concurrent uses exactly one wins.
   */
  useSetupLink(tokenHash: string, now: Date): Promise<string | undefined>;
}
