import type {
  ApiKeyRecord,
  EffectMark,
  Note,
  NoteOwner,
  PendingApproval,
  QuarantineItem,
  Storage,
} from '../contracts.js';
import { EFFECT_JOURNAL_RETENTION_MS, makeSnippet, queryTerms } from '../contracts.js';
import { openMemoryConnections } from './memory-connections.js';
import { openMemoryPins } from './memory-pins.js';

const ownerKey = (o: NoteOwner) => JSON.stringify([o.tenant, o.owner]);

/** In-process storage for tests and throwaway runs; passes the same contract suite as SQLite. */
export function openMemoryStorage(): Storage {
  const keys = new Map<string, ApiKeyRecord>();
  const notes = new Map<string, { owner: string; note: Note }>();
  const quarantined = new Map<string, QuarantineItem>();
  const nonces = new Map<string, number>();
  const approvals = new Map<string, PendingApproval>();
  /** person → label → expiry (ms). */
  const taint = new Map<string, Map<string, number>>();
  const effects = new Map<string, number>();
  const journal = (effect: EffectMark | undefined) => {
    if (!effect) return;
    for (const [id, at] of effects) {
      if (at < effect.at.getTime() - EFFECT_JOURNAL_RETENTION_MS) effects.delete(id);
    }
    effects.set(effect.correlationId, effect.at.getTime());
  };
  return {
    apiKeys: {
      insert: async (r) => {
        if (keys.has(r.id)) throw new Error(`duplicate api key id ${r.id}`);
        keys.set(r.id, { ...r, scopes: [...r.scopes] });
      },
      findById: async (id) => keys.get(id),
      list: async () =>
        [...keys.values()].sort((a, b) => +a.createdAt - +b.createdAt || a.id.localeCompare(b.id)),
      revoke: async (id, at) => {
        const r = keys.get(id);
        if (!r) return false;
        if (!r.revokedAt) keys.set(id, { ...r, revokedAt: at });
        return true;
      },
      touchLastUsed: async (id, at) => {
        const r = keys.get(id);
        if (r) keys.set(id, { ...r, lastUsedAt: at });
      },
    },
    notes: {
      save: async (o, n, effect) => {
        if (notes.has(n.id)) throw new Error(`duplicate note id ${n.id}`);
        notes.set(n.id, { owner: ownerKey(o), note: { ...n, tags: [...n.tags] } });
        journal(effect);
      },
      search: async (o, query, limit) => {
        const terms = queryTerms(query);
        if (terms.length === 0) return [];
        const key = ownerKey(o);
        const words = (s: string) => new Set(queryTerms(s));
        return [...notes.values()]
          .filter((e) => e.owner === key)
          .filter((e) => {
            const w = words(`${e.note.title} ${e.note.content} ${e.note.tags.join(' ')}`);
            return terms.every((t) => w.has(t));
          })
          .slice(0, limit)
          .map(({ note }) => ({ id: note.id, title: note.title, snippet: makeSnippet(note.content, terms) }));
      },
      get: async (o, id) => {
        const e = notes.get(id);
        return e && e.owner === ownerKey(o) ? e.note : undefined;
      },
      delete: async (o, id, effect) => {
        const e = notes.get(id);
        if (!e || e.owner !== ownerKey(o)) return false;
        notes.delete(id);
        journal(effect);
        return true;
      },
    },
    effects: {
      committed: async (correlationId) => effects.has(correlationId),
    },
    quarantine: {
      insert: async (i) => {
        if (quarantined.has(i.id)) throw new Error(`duplicate quarantine id ${i.id}`);
        quarantined.set(i.id, i);
      },
      get: async (id) => quarantined.get(id),
      list: async ({ status, limit }) =>
        [...quarantined.values()]
          .filter((i) => !status || i.status === status)
          .sort((a, b) => +b.createdAt - +a.createdAt || a.id.localeCompare(b.id))
          .slice(0, limit),
      decide: async (id, status, at) => {
        const i = quarantined.get(id);
        if (!i || i.status !== 'pending') return false;
        quarantined.set(id, {
          ...i,
          status,
          decidedAt: at,
          result: status === 'discarded' ? null : i.result,
        });
        return true;
      },
    },
    confirmations: {
      useNonce: async (nonce, expiresAt) => {
        if (nonces.has(nonce)) return false;
        nonces.set(nonce, expiresAt.getTime());
        return true;
      },
      insertApproval: async (a) => {
        if (approvals.has(a.id)) throw new Error(`duplicate approval id ${a.id}`);
        approvals.set(a.id, a);
      },
      getApproval: async (id) => approvals.get(id),
      listApprovals: async ({ pending, now, limit }) =>
        [...approvals.values()]
          .filter((a) => !pending || (a.status === 'pending' && a.expiresAt > now))
          .sort((a, b) => +b.createdAt - +a.createdAt || b.id.localeCompare(a.id))
          .slice(0, limit),
      findApproval: async (binding, tool, argsHash) =>
        [...approvals.values()]
          .filter((a) => a.binding === binding && a.tool === tool && a.argsHash === argsHash)
          .filter((a) => a.status !== 'used')
          .sort((a, b) => +b.createdAt - +a.createdAt || b.id.localeCompare(a.id))[0],
      decideApproval: async (id, status, at) => {
        const a = approvals.get(id);
        if (!a || a.status !== 'pending' || a.expiresAt <= at) return false;
        approvals.set(id, { ...a, status, decidedAt: at, args: null });
        return true;
      },
      useApproval: async (id) => {
        const a = approvals.get(id);
        if (!a || (a.status !== 'approved' && a.status !== 'denied')) return false;
        approvals.set(id, { ...a, status: 'used', args: null });
        return true;
      },
      purge: async (now) => {
        for (const [n, exp] of nonces) if (exp <= now.getTime()) nonces.delete(n);
        for (const [id, a] of approvals) if (+a.expiresAt <= +now - 86_400_000) approvals.delete(id);
      },
    },
    taint: {
      live: async (person, now) =>
        [...(taint.get(person) ?? [])]
          .filter(([, at]) => at > now.getTime())
          .map(([label]) => label)
          .sort(),
      record: async (person, labels, expiresAt) => {
        const entry = taint.get(person) ?? new Map<string, number>();
        for (const label of labels) entry.set(label, Math.max(entry.get(label) ?? 0, expiresAt.getTime()));
        taint.set(person, entry);
      },
      purge: async (now) => {
        for (const [person, entry] of taint) {
          for (const [label, at] of entry) if (at <= now.getTime()) entry.delete(label);
          if (entry.size === 0) taint.delete(person);
        }
      },
    },
    connections: openMemoryConnections(),
    pins: openMemoryPins(),
    ping: async () => {},
    close: async () => {},
  };
}
