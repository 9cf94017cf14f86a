import type { GrantSummary, ModelPayload, OAuthStore } from './contracts.js';
import { grantSummary } from './grant-summary.js';

interface Entry {
  readonly model: string;
  readonly id: string;
  payload: ModelPayload;
  readonly expiresAt: Date | null;
  consumedAt: Date | null;
}

const live = (e: Entry, now: Date) => e.expiresAt === null || e.expiresAt.getTime() > now.getTime();
const keyOf = (model: string, id: string) => `${model}\u0000${id}`;

/** In-process OAuth store for tests and `storage.driver: memory`; passes the contract suite. */
export function openMemoryOAuthStore(): OAuthStore {
  const entries = new Map<string, Entry>();
  const revokedClients = new Map<string, Date>();
  let epoch = 0;

  const withConsumed = (e: Entry): ModelPayload =>
    e.consumedAt ? { ...e.payload, consumed: Math.floor(e.consumedAt.getTime() / 1000) } : e.payload;
  const findBy = (model: string, field: 'uid' | 'userCode', value: string, now: Date) => {
    for (const e of entries.values()) {
      if (e.model === model && e.payload[field] === value && live(e, now)) return withConsumed(e);
    }
    return undefined;
  };
  const deleteWhere = (match: (e: Entry) => boolean) => {
    let n = 0;
    for (const [k, e] of entries) if (match(e) && entries.delete(k)) n++;
    return n;
  };

  return {
    upsert: async (model, id, payload, expiresAt) => {
      const prev = entries.get(keyOf(model, id));
      entries.set(keyOf(model, id), {
        model,
        id,
        payload: structuredClone(payload),
        expiresAt,
        consumedAt: prev?.consumedAt ?? null,
      });
    },
    find: async (model, id, now) => {
      const e = entries.get(keyOf(model, id));
      return e && live(e, now) ? withConsumed(e) : undefined;
    },
    findByUid: async (model, uid, now) => findBy(model, 'uid', uid, now),
    findByUserCode: async (model, userCode, now) => findBy(model, 'userCode', userCode, now),
    consume: async (model, id, at) => {
      const e = entries.get(keyOf(model, id));
      if (e && !e.consumedAt) e.consumedAt = at;
    },
    destroy: async (model, id) => {
      if (entries.delete(keyOf(model, id)) && (model === 'Grant' || model === 'Client')) epoch++;
    },
    revokeByGrantId: async (grantId) => {
      deleteWhere((e) => e.payload.grantId === grantId || (e.model === 'Grant' && e.id === grantId));
      epoch++;
    },
    listGrants: async (filter, now): Promise<GrantSummary[]> =>
      [...entries.values()]
        .filter((e) => e.model === 'Grant' && live(e, now))
        .filter((e) => filter.accountId === undefined || e.payload.accountId === filter.accountId)
        .filter((e) => filter.clientId === undefined || e.payload.clientId === filter.clientId)
        .map((e) => grantSummary(e.id, e.payload, e.expiresAt))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id)),
    listClients: async () =>
      [...entries.values()]
        .filter((e) => e.model === 'Client')
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((e) => e.payload),
    countRegisteredClients: async (now) =>
      [...entries.values()].filter(
        (e) => e.model === 'Client' && live(e, now) && e.payload.portcullis_created_by === undefined,
      ).length,
    markClientUsed: async (clientId) => {
      for (const model of ['Client', 'SeenMetadataDocument']) {
        const e = entries.get(keyOf(model, clientId));
        if (e?.expiresAt) entries.set(keyOf(model, clientId), { ...e, expiresAt: null });
      }
    },
    revokeClient: async (clientId, at) => {
      const n = deleteWhere(
        (e) => (e.model === 'Client' && e.id === clientId) || e.payload.clientId === clientId,
      );
      if (!revokedClients.has(clientId)) revokedClients.set(clientId, at);
      epoch++;
      return n > 0;
    },
    isClientRevoked: async (clientId) => revokedClients.has(clientId),
    revocationEpoch: async () => epoch,
    purgeExpired: async (now) => deleteWhere((e) => !live(e, now)),
    close: async () => {},
  };
}
