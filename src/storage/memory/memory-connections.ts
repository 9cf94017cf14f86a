import type { ConnectionRecord, ConnectionStore, WrappedDataKey } from '../contracts.js';

/** Connections and vault data keys in process memory (tests, throwaway runs). */
export function openMemoryConnections(): ConnectionStore {
  const rows = new Map<string, ConnectionRecord>();
  const keys: WrappedDataKey[] = [];
  const copy = (r: ConnectionRecord): ConnectionRecord => ({ ...r, scopes: [...r.scopes] });
  const byPerson = (tenant: string, subject: string, upstream: string) =>
    [...rows.values()].find((r) => r.tenant === tenant && r.subject === subject && r.upstream === upstream);
  return {
    put: async (record) => {
      if (rows.has(record.id)) throw new Error(`duplicate connection id ${record.id}`);
      const replaced = byPerson(record.tenant, record.subject, record.upstream);
      if (replaced) rows.delete(replaced.id);
      rows.set(record.id, copy(record));
      return replaced;
    },
    get: async (id) => {
      const r = rows.get(id);
      return r && copy(r);
    },
    find: async (tenant, subject, upstream) => {
      const r = byPerson(tenant, subject, upstream);
      return r && copy(r);
    },
    list: async (f) =>
      [...rows.values()]
        .filter(
          (r) =>
            (f.tenant === undefined || r.tenant === f.tenant) &&
            (f.subject === undefined || r.subject === f.subject),
        )
        .filter((r) => f.upstream === undefined || r.upstream === f.upstream)
        .sort((a, b) => +a.createdAt - +b.createdAt || a.id.localeCompare(b.id))
        .map(copy),
    update: async (id, patch) => {
      const r = rows.get(id);
      if (!r) return false;
      rows.set(id, copy({ ...r, ...patch }));
      return true;
    },
    swapSealed: async (id, expected, patch) => {
      const r = rows.get(id);
      if (!r || r.sealed !== expected) return false;
      rows.set(id, copy({ ...r, ...patch }));
      return true;
    },
    delete: async (id) => rows.delete(id),
    deleteOf: async (subject, tenant) => {
      let n = 0;
      for (const [id, r] of rows) {
        if (r.subject === subject && (tenant === undefined || r.tenant === tenant)) {
          rows.delete(id);
          n++;
        }
      }
      return n;
    },
    dataKeys: async () => keys.map((k) => ({ ...k })),
    addDataKey: async (k) => {
      if (keys.some((x) => x.dataKeyId === k.dataKeyId && x.kekId === k.kekId)) return;
      keys.push({ ...k });
    },
    addFirstDataKey: async (k) => {
      if (keys.length > 0) return false;
      keys.push({ ...k });
      return true;
    },
    retireDataKeys: async (kekId) => {
      const before = keys.length;
      for (let i = keys.length - 1; i >= 0; i--) if (keys[i]!.kekId !== kekId) keys.splice(i, 1);
      return before - keys.length;
    },
  };
}
