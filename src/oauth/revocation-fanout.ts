import type { SharedState } from '../shared-state/index.js';
import type { OAuthDatabase, OAuthStore } from './store/index.js';

/**
 * Revocations pushed between replicas (Redis pub/sub, channel `<prefix>revocations`). The store's
 * revocation epoch stays the source of truth; the messages only let a replica skip reading it on
 * every call while they are known to arrive.
 */
export interface RevocationSignal {
  /**
   * True while every message published more than a heartbeat ago has been received (the
   * subscription is up and Redis answered it within the last second).
   */
  fresh(): boolean;
  /** Called for every revocation message, and whenever the subscription is lost or comes back. */
  onInvalidate(listener: () => void): void;
  /** Tells every replica; false when the message did not go out. */
  publish(): Promise<boolean>;
}

/** Models whose deletion revokes tokens (the revocation check looks them up). */
const REVOKING_MODELS = new Set(['Grant', 'Client']);

/**
 * The OAuth store, telling every replica after each write that revokes (a deleted grant or
 * client, a revoked client), once the write is committed. A message that does not go out is
 * reported to `onUnsent`: replicas then see the revocation through the epoch within a second
 * (check-revocation.ts never trusts its cache longer than that without reading it).
 */
export function publishRevocations(
  store: OAuthStore,
  signal: RevocationSignal,
  onUnsent: () => void = () => undefined,
): OAuthStore {
  const tell = async () => {
    if (!(await signal.publish())) onUnsent();
  };
  return {
    ...store,
    async destroy(model, id) {
      await store.destroy(model, id);
      if (REVOKING_MODELS.has(model)) await tell();
    },
    async revokeByGrantId(grantId) {
      await store.revokeByGrantId(grantId);
      await tell();
    },
    async revokeClient(clientId, at) {
      const revoked = await store.revokeClient(clientId, at);
      await tell();
      return revoked;
    },
  };
}

/** `publishRevocations` over the OAuth store of a database. */
export function withRevocationFanout(
  db: OAuthDatabase,
  signal: RevocationSignal | undefined,
  onUnsent?: () => void,
): OAuthDatabase {
  return signal ? { ...db, oauth: publishRevocations(db.oauth, signal, onUnsent) } : db;
}

/** The revocation channel of this deployment's Redis. */
export function revocationSignal(shared: SharedState): RevocationSignal {
  const listeners: (() => void)[] = [];
  const fire = () => {
    for (const l of listeners) l();
  };
  shared.subscribe('revocations', { message: fire, health: fire });
  return {
    fresh: () => shared.subscriptionFresh(),
    onInvalidate: (l) => void listeners.push(l),
    publish: () => shared.publish('revocations', String(Date.now())),
  };
}
