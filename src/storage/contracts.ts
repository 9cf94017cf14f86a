/**
 * Narrow storage contracts, one per model. Every backend (SQLite, memory; later PostgreSQL)
 * implements them and passes the one contract suite in contracts.test.ts. Methods are async so
 * network backends fit; the SQLite backend answers synchronously underneath.
 */

export interface ApiKeyRecord {
  readonly id: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  readonly hash: string;
  readonly owner: string;
  readonly tenant: string;
  readonly label: string;
  readonly scopes: readonly string[];
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

export interface ApiKeyStore {
  insert(record: ApiKeyRecord): Promise<void>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; returns false when no such key exists. Idempotent. */
  revoke(id: string, at: Date): Promise<boolean>;
  touchLastUsed(id: string, at: Date): Promise<void>;
}

/** Whose note it is: both parts come from the credential, never from tool arguments. */
export interface NoteOwner {
  readonly tenant: string;
  readonly owner: string;
}

export interface Note {
  readonly id: string;
  readonly title: string;
  readonly content: string;
  readonly tags: readonly string[];
  readonly createdAt: Date;
}

export interface NoteSearchHit {
  readonly id: string;
  readonly title: string;
  readonly snippet: string;
}

/**
 * Which tool call made a write: its correlation id, journaled in the same transaction as the
 * write itself, so that after a crash the start-up recovery can tell whether the interrupted
 * call's write committed (see EffectJournal and audit/DESIGN.md).
 */
export interface EffectMark {
  readonly correlationId: string;
  readonly at: Date;
}

export interface NoteStore {
  save(owner: NoteOwner, note: Note, effect?: EffectMark): Promise<void>;
  /** Full-text search; `query` is plain text, never query syntax. */
  search(owner: NoteOwner, query: string, limit: number): Promise<NoteSearchHit[]>;
  get(owner: NoteOwner, id: string): Promise<Note | undefined>;
  /**
   * Returns false when the owner has no note with that id (including another owner's note);
   * the effect is journaled only when a note was deleted.
   */
  delete(owner: NoteOwner, id: string, effect?: EffectMark): Promise<boolean>;
}

/**
 * How long journaled effects are kept. Entries older than this are dropped as writes happen; a
 * call interrupted longer ago than this cannot be told apart (its record says "unknown").
 */
export const EFFECT_JOURNAL_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** The writes that built-in tools journaled with EffectMark. */
export interface EffectJournal {
  /** Whether a write journaled under this correlation id committed. */
  committed(correlationId: string): Promise<boolean>;
}

export type QuarantineStatus = 'pending' | 'released' | 'discarded';

/** A tool result withheld because the injection detector flagged it, kept for a person to review. */
export interface QuarantineItem {
  readonly id: string;
  readonly tenant: string;
  readonly principal: string;
  readonly tool: string;
  readonly correlationId: string;
  readonly createdAt: Date;
  readonly status: QuarantineStatus;
  readonly decidedAt: Date | null;
  /** The sanitised, redacted result as JSON. Dropped when the item is discarded. */
  readonly result: string | null;
  /** The detector's findings as JSON (rules and spans; no content). */
  readonly findings: string;
}

export interface QuarantineStore {
  insert(item: QuarantineItem): Promise<void>;
  get(id: string): Promise<QuarantineItem | undefined>;
  list(filter: { status?: QuarantineStatus; limit: number }): Promise<QuarantineItem[]>;
  /** Moves a pending item to released or discarded (discarding drops the result); false if not pending. */
  decide(id: string, status: 'released' | 'discarded', at: Date): Promise<boolean>;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'used';

/**
 * A tool call waiting for its person on the approval page (out-of-band confirmation). Matched
 * to the client's retry by credential binding + tool + argument hash; approved once, used once.
 */
export interface PendingApproval {
  /** Random, unguessable; the page URL is `/approvals/<id>`. */
  readonly id: string;
  /** The credential binding (Principal.binding) the retry must come from. */
  readonly binding: string;
  /** The person who may approve it: the principal's subject. */
  readonly subject: string;
  readonly tenant: string;
  readonly clientId: string | null;
  readonly tool: string;
  readonly upstream: string | null;
  /** SHA-256 of the canonical arguments (policy/hash-args). */
  readonly argsHash: string;
  /** The (redacted) arguments as JSON, shown to the person; dropped once decided or expired. */
  readonly args: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly status: ApprovalStatus;
  readonly decidedAt: Date | null;
}

export interface ConfirmationStore {
  /**
   * Records a confirmation nonce as used until `expiresAt`; false when it was already recorded
   * (a replay). Atomic: of two concurrent uses exactly one wins.
   */
  useNonce(nonce: string, expiresAt: Date): Promise<boolean>;
  insertApproval(approval: PendingApproval): Promise<void>;
  getApproval(id: string): Promise<PendingApproval | undefined>;
  /** The newest approval for this binding, tool and argument hash that is not yet used. */
  findApproval(binding: string, tool: string, argsHash: string): Promise<PendingApproval | undefined>;
  /**
   * Approvals newest first, for the operator's console: with `pending`, only those still pending
   * and unexpired at `now`; otherwise every one kept (decided and used ones until purged).
   */
  listApprovals(filter: { pending: boolean; now: Date; limit: number }): Promise<PendingApproval[]>;
  /** pending → approved | denied, if still pending and unexpired at `at`; false otherwise. */
  decideApproval(id: string, status: 'approved' | 'denied', at: Date): Promise<boolean>;
  /** approved | denied → used (the retry consumed the answer); false if it was not. Single use. */
  useApproval(id: string): Promise<boolean>;
  /** Deletes nonces past their expiry and approvals expired or used more than a day before `now`. */
  purge(now: Date): Promise<void>;
}

/**
 * The tool-chain (taint) labels a person's context has taken in, each until its expiry. Keyed by
 * the person (an opaque string policy/ builds from the subject), never by a session or a
 * credential, so a new session, key or token starts where the last one left off. Narrow on
 * purpose: a shared store (Redis) takes its place when replicas must agree.
 */
export interface TaintStore {
  /** The labels recorded for `person` whose expiry is after `now`. */
  live(person: string, now: Date): Promise<string[]>;
  /** Records labels for `person` until `expiresAt`; an entry never moves to an earlier expiry. */
  record(person: string, labels: readonly string[], expiresAt: Date): Promise<void>;
  /** Deletes every entry that expired at or before `now`. */
  purge(now: Date): Promise<void>;
}

/** How a person's credential for one upstream was obtained (the upstream's `auth.mode`). */
export type ConnectionMode = 'person-oauth' | 'person-secret' | 'token-exchange';

/**
 * - `connected`: usable;
 * - `expired`: the access token ran out and there is no refresh token: connect again;
 * - `broken`: the upstream refused it (a refused refresh, a revoked key): connect again.
 */
export type ConnectionState = 'connected' | 'expired' | 'broken';

/**
 * One person's credential for one upstream: at most one per (tenant, subject, upstream). The
 * credential itself is only ever stored sealed (connections/vault.ts: AES-256-GCM, bound to
 * tenant + subject + upstream + id), so a copied row opens for nobody else.
 */
export interface ConnectionRecord {
  /** Random, `conn_…`; named in audit records and by `connections revoke`. */
  readonly id: string;
  readonly tenant: string;
  /** The person (the Portcullis account name, the OAuth `sub`). */
  readonly subject: string;
  readonly upstream: string;
  readonly mode: ConnectionMode;
  readonly state: ConnectionState;
  /** Who the credential acts as at the upstream, when known (shown as "connected as X"). */
  readonly upstreamSubject: string | null;
  readonly scopes: readonly string[];
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  /** When the access token expires (person-oauth); null when unknown or never. */
  readonly expiresAt: Date | null;
  /** Why it is broken, in words for the person (no secret); null unless broken. */
  readonly brokenReason: string | null;
  /** The sealed credential (vault format `v1.…`); never the plaintext. */
  readonly sealed: string;
}

/** What may change on a connection after it is made. */
export type ConnectionPatch = Partial<
  Pick<
    ConnectionRecord,
    'state' | 'upstreamSubject' | 'scopes' | 'lastUsedAt' | 'expiresAt' | 'brokenReason' | 'sealed'
  >
>;

/**
 * The vault's data key, wrapped (AES-256-GCM) under one key-encryption key. The same data key
 * may be wrapped under two KEKs while a rotation is under way, so gateways with either KEK open it.
 */
export interface WrappedDataKey {
  readonly dataKeyId: string;
  /** SHA-256 fingerprint of the KEK (hex, 16 chars): which KEK opens this wrap. */
  readonly kekId: string;
  readonly wrapped: string;
  readonly createdAt: Date;
}

export interface ConnectionStore {
  /**
   * Stores a new connection, replacing the person's existing one for that upstream (a
   * reconnection); returns the replaced record, if any, so its tokens can be revoked.
   */
  put(record: ConnectionRecord): Promise<ConnectionRecord | undefined>;
  get(id: string): Promise<ConnectionRecord | undefined>;
  /** The person's connection for an upstream. Both parts of the person come from the credential. */
  find(tenant: string, subject: string, upstream: string): Promise<ConnectionRecord | undefined>;
  list(filter: { tenant?: string; subject?: string; upstream?: string }): Promise<ConnectionRecord[]>;
  /** Applies the patch; false when no such connection. */
  update(id: string, patch: ConnectionPatch): Promise<boolean>;
  /**
   * Replaces the sealed credential only if it is still `expected` (compare-and-set), so two
   * replicas refreshing at once cannot both rotate a refresh token; false if it had changed.
   */
  swapSealed(id: string, expected: string, patch: ConnectionPatch & { sealed: string }): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /** Deletes every connection of a person (erasure); returns how many. */
  deleteOf(subject: string, tenant?: string): Promise<number>;
  dataKeys(): Promise<WrappedDataKey[]>;
  /** Adds a wrap; a wrap of the same data key under the same KEK is kept as it was. */
  addDataKey(key: WrappedDataKey): Promise<void>;
  /**
   * Adds the vault's first data key only if there is no wrap at all yet, atomically: of two
   * gateways opening an empty vault at once, one key wins and both then open it. False if a wrap
   * already existed (the key was not added).
   */
  addFirstDataKey(key: WrappedDataKey): Promise<boolean>;
  /** Removes every wrap not under `kekId` (the end of a rotation); returns how many. */
  retireDataKeys(kekId: string): Promise<number>;
}

/** One approved definition of an upstream item, as the lockfile holds it. */
export interface PinApproval {
  readonly hash: string;
  /** ISO time, kept as written (the lockfile's text), so an export diffs cleanly. */
  readonly approvedAt: string;
  /** The approved (redacted) definition itself; its hash must be `hash`. */
  readonly definition: unknown;
}

export interface PinRejection {
  readonly hash: string;
  readonly rejectedAt: string;
}

/** Every decision about one upstream's items, keyed by pin key (pins/pin-keys.ts). */
export interface UpstreamPins {
  approved: Record<string, PinApproval>;
  /** Rejected hashes per key, oldest first. */
  rejected: Record<string, PinRejection[]>;
}

/**
 * One decision. `approve` replaces the key's approval and lifts a rejection of that hash;
 * `reject` adds the hash to the key's rejections (once); `withdraw` drops the key's approval only
 * while it is still `hash` (so withdrawing a stale approval never drops a newer one).
 */
export type PinChange =
  | {
      readonly op: 'approve';
      readonly upstream: string;
      readonly key: string;
      readonly hash: string;
      readonly definition: unknown;
      readonly at: Date;
    }
  | {
      readonly op: 'reject';
      readonly upstream: string;
      readonly key: string;
      readonly hash: string;
      readonly at: Date;
    }
  | { readonly op: 'withdraw'; readonly upstream: string; readonly key: string; readonly hash: string };

/**
 * The approved and rejected upstream definitions (the pins), and what the gateway last observed
 * of each upstream. Shared by every replica on one database, so an approval made anywhere (CLI,
 * console, another replica) applies everywhere. `revision` is the cheap change marker a running
 * gateway polls; every write that changes a pin moves it, in the same transaction.
 */
export interface PinStore {
  revision(): Promise<number>;
  /** Every pin, read in one snapshot, with the revision it is at. */
  read(): Promise<{ revision: number; upstreams: Record<string, UpstreamPins> }>;
  /**
   * Applies the changes in one transaction, serialised with every other pin write (no lost
   * update); the revision moves by one if anything changed. Returns the revision after.
   */
  apply(changes: readonly PinChange[]): Promise<number>;
  /** Replaces every pin with these (an imported lockfile), in one transaction; moves the revision. */
  replace(upstreams: Readonly<Record<string, UpstreamPins>>): Promise<number>;
  /** The last observation of each upstream (JSON of pins/ObservedUpstream, by upstream name). */
  observed(): Promise<Record<string, unknown>>;
  putObserved(upstream: string, snapshot: unknown): Promise<void>;
  deleteObserved(upstream: string): Promise<void>;
}

export interface Storage {
  readonly apiKeys: ApiKeyStore;
  readonly notes: NoteStore;
  readonly effects: EffectJournal;
  readonly quarantine: QuarantineStore;
  readonly confirmations: ConfirmationStore;
  readonly taint: TaintStore;
  readonly connections: ConnectionStore;
  readonly pins: PinStore;
  /** Resolves when the backend can serve requests (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Words of a plain-text query, lower-cased, punctuation dropped; shared by every backend. */
export function queryTerms(query: string): string[] {
  return (query.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []).slice(0, 16);
}

/** A short excerpt around the first matching term, for search results. */
export function makeSnippet(content: string, terms: readonly string[], width = 160): string {
  const lower = content.toLowerCase();
  let at = -1;
  for (const t of terms) {
    const i = lower.indexOf(t);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  const start = Math.max(0, at - Math.floor(width / 3));
  const text = content
    .slice(start, start + width)
    .replace(/\s+/g, ' ')
    .trim();
  return `${start > 0 ? '…' : ''}${text}${start + width < content.length ? '…' : ''}`;
}
