import type Database from 'better-sqlite3';
import type {
  ConnectionMode,
  ConnectionPatch,
  ConnectionRecord,
  ConnectionState,
  ConnectionStore,
  WrappedDataKey,
} from '../contracts.js';

interface ConnectionRow {
  id: string;
  tenant: string;
  subject: string;
  upstream: string;
  mode: ConnectionMode;
  state: ConnectionState;
  upstream_subject: string | null;
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  broken_reason: string | null;
  sealed: string;
}

const toDate = (ms: number | null) => (ms === null ? null : new Date(ms));

const rowToConnection = (r: ConnectionRow): ConnectionRecord => ({
  id: r.id,
  tenant: r.tenant,
  subject: r.subject,
  upstream: r.upstream,
  mode: r.mode,
  state: r.state,
  upstreamSubject: r.upstream_subject,
  scopes: JSON.parse(r.scopes) as string[],
  createdAt: new Date(r.created_at),
  lastUsedAt: toDate(r.last_used_at),
  expiresAt: toDate(r.expires_at),
  brokenReason: r.broken_reason,
  sealed: r.sealed,
});

/** Column names of the fields a patch may set. */
const PATCH_COLUMNS: Readonly<Record<keyof ConnectionPatch, string>> = {
  state: 'state',
  upstreamSubject: 'upstream_subject',
  scopes: 'scopes',
  lastUsedAt: 'last_used_at',
  expiresAt: 'expires_at',
  brokenReason: 'broken_reason',
  sealed: 'sealed',
};

function patchValues(patch: ConnectionPatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch) as [keyof ConnectionPatch, unknown][]) {
    if (value === undefined) continue;
    out[PATCH_COLUMNS[key]] =
      value instanceof Date ? value.getTime() : key === 'scopes' ? JSON.stringify(value) : value;
  }
  return out;
}

/**
 * The connection store over the core SQLite file (tables of core migration 6); look-ups on `read`
 * (opened read-only), writes and the reconnection's transaction on `db`.
 */
export function createSqliteConnections(
  db: Database.Database,
  read: Database.Database = db,
): ConnectionStore {
  const r = {
    get: read.prepare<[string], ConnectionRow>('SELECT * FROM connections WHERE id = ?'),
    find: read.prepare<[string, string, string], ConnectionRow>(
      'SELECT * FROM connections WHERE tenant = ? AND subject = ? AND upstream = ?',
    ),
    keys: read.prepare<[], { data_key_id: string; kek_id: string; wrapped: string; created_at: number }>(
      'SELECT * FROM vault_data_keys ORDER BY created_at, kek_id',
    ),
  };
  const s = {
    insert: db.prepare(
      `INSERT INTO connections (id, tenant, subject, upstream, mode, state, upstream_subject, scopes, created_at, last_used_at, expires_at, broken_reason, sealed)
       VALUES (@id, @tenant, @subject, @upstream, @mode, @state, @upstream_subject, @scopes, @created_at, @last_used_at, @expires_at, @broken_reason, @sealed)`,
    ),
    get: db.prepare<[string], ConnectionRow>('SELECT * FROM connections WHERE id = ?'),
    find: db.prepare<[string, string, string], ConnectionRow>(
      'SELECT * FROM connections WHERE tenant = ? AND subject = ? AND upstream = ?',
    ),
    deleteById: db.prepare<[string]>('DELETE FROM connections WHERE id = ?'),
    deleteOf: db.prepare<[string]>('DELETE FROM connections WHERE subject = ?'),
    deleteOfIn: db.prepare<[string, string]>('DELETE FROM connections WHERE subject = ? AND tenant = ?'),
    addKey: db.prepare<[string, string, string, number]>(
      'INSERT INTO vault_data_keys (data_key_id, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    anyKey: db.prepare<[], { one: number }>('SELECT 1 AS one FROM vault_data_keys LIMIT 1'),
    retire: db.prepare<[string]>('DELETE FROM vault_data_keys WHERE kek_id != ?'),
  };
  const put = db.transaction((r: ConnectionRecord) => {
    const old = s.find.get(r.tenant, r.subject, r.upstream);
    if (old) s.deleteById.run(old.id);
    s.insert.run({
      id: r.id,
      tenant: r.tenant,
      subject: r.subject,
      upstream: r.upstream,
      mode: r.mode,
      state: r.state,
      upstream_subject: r.upstreamSubject,
      scopes: JSON.stringify(r.scopes),
      created_at: r.createdAt.getTime(),
      last_used_at: r.lastUsedAt?.getTime() ?? null,
      expires_at: r.expiresAt?.getTime() ?? null,
      broken_reason: r.brokenReason,
      sealed: r.sealed,
    });
    return old && rowToConnection(old);
  });
  /** Under BEGIN IMMEDIATE: a second process waits, then sees the first one's key. */
  const addFirst = db.transaction((k: WrappedDataKey): boolean => {
    if (s.anyKey.get()) return false;
    s.addKey.run(k.dataKeyId, k.kekId, k.wrapped, k.createdAt.getTime());
    return true;
  });
  const update = (id: string, patch: ConnectionPatch, expected?: string): boolean => {
    const values = patchValues(patch);
    const columns = Object.keys(values);
    if (columns.length === 0)
      return s.get.get(id) !== undefined && (expected === undefined || s.get.get(id)!.sealed === expected);
    // Column names come from PATCH_COLUMNS only, never from input.
    const sql = `UPDATE connections SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id${
      expected === undefined ? '' : ' AND sealed = @expected'
    }`;
    return (
      db.prepare(sql).run({ ...values, id, ...(expected === undefined ? {} : { expected }) }).changes > 0
    );
  };
  return {
    put: async (r) => put.immediate(r),
    get: async (id) => {
      const row = r.get.get(id);
      return row && rowToConnection(row);
    },
    find: async (tenant, subject, upstream) => {
      const row = r.find.get(tenant, subject, upstream);
      return row && rowToConnection(row);
    },
    list: async (f) => {
      const where: string[] = [];
      if (f.tenant !== undefined) where.push('tenant = @tenant');
      if (f.subject !== undefined) where.push('subject = @subject');
      if (f.upstream !== undefined) where.push('upstream = @upstream');
      return read
        .prepare<Record<string, string>, ConnectionRow>(
          `SELECT * FROM connections${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`,
        )
        .all(
          Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as Record<string, string>,
        )
        .map(rowToConnection);
    },
    update: async (id, patch) => update(id, patch),
    swapSealed: async (id, expected, patch) => update(id, patch, expected),
    delete: async (id) => s.deleteById.run(id).changes > 0,
    deleteOf: async (subject, tenant) =>
      (tenant === undefined ? s.deleteOf.run(subject) : s.deleteOfIn.run(subject, tenant)).changes,
    dataKeys: async () =>
      r.keys.all().map((k) => ({
        dataKeyId: k.data_key_id,
        kekId: k.kek_id,
        wrapped: k.wrapped,
        createdAt: new Date(k.created_at),
      })),
    addDataKey: async (k) => {
      s.addKey.run(k.dataKeyId, k.kekId, k.wrapped, k.createdAt.getTime());
    },
    addFirstDataKey: async (k) => addFirst.immediate(k),
    retireDataKeys: async (kekId) => s.retire.run(kekId).changes,
  };
}
