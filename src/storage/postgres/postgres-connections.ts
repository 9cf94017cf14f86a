import type pg from 'pg';
import type { ConnectionPatch, ConnectionRecord, ConnectionStore } from '../contracts.js';
import { inTransaction } from './open-pools.js';

type Row = Record<string, unknown>;
const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as number));

const toConnection = (r: Row): ConnectionRecord => ({
  id: r.id as string,
  tenant: r.tenant as string,
  subject: r.subject as string,
  upstream: r.upstream as string,
  mode: r.mode as ConnectionRecord['mode'],
  state: r.state as ConnectionRecord['state'],
  upstreamSubject: r.upstream_subject as string | null,
  scopes: r.scopes as string[],
  createdAt: new Date(r.created_at as number),
  lastUsedAt: date(r.last_used_at),
  expiresAt: date(r.expires_at),
  brokenReason: r.broken_reason as string | null,
  sealed: r.sealed as string,
});

/** Column names of the fields a patch may set: the only names that reach the SQL text. */
const PATCH_COLUMNS: Readonly<Record<keyof ConnectionPatch, string>> = {
  state: 'state',
  upstreamSubject: 'upstream_subject',
  scopes: 'scopes',
  lastUsedAt: 'last_used_at',
  expiresAt: 'expires_at',
  brokenReason: 'broken_reason',
  sealed: 'sealed',
};

function patchColumns(patch: ConnectionPatch): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [key, value] of Object.entries(patch) as [keyof ConnectionPatch, unknown][]) {
    if (value === undefined || !Object.hasOwn(PATCH_COLUMNS, key)) continue;
    out.push([
      PATCH_COLUMNS[key],
      value instanceof Date ? value.getTime() : key === 'scopes' ? JSON.stringify(value) : value,
    ]);
  }
  return out;
}

/**
 * The connection store on PostgreSQL (tables of core migration 2): writes on the write pool,
 * reads on the read-only one. A reconnection (`put`) holds a transaction-scoped advisory lock on
 * the person and upstream, so two replicas reconnecting at once both see the record they replace.
 */
export function createPostgresConnections(write: pg.Pool, read: pg.Pool): ConnectionStore {
  const one = async (sql: string, params: unknown[]) =>
    (await read.query<Row>(sql, params)).rows.map(toConnection)[0];

  const update = async (id: string, patch: ConnectionPatch, expected?: string): Promise<boolean> => {
    const columns = patchColumns(patch);
    const params: unknown[] = [id];
    let where = 'id = $1';
    if (expected !== undefined) {
      params.push(expected);
      where += ' AND sealed = $2';
    }
    if (columns.length === 0)
      return (await write.query(`SELECT 1 FROM connections WHERE ${where}`, params)).rows.length > 0;
    const sets = columns.map(([column, value]) => {
      params.push(value);
      return `${column} = $${params.length}`;
    });
    // One UPDATE with its condition: of two concurrent swaps from the same sealed value, one wins.
    return (
      ((await write.query(`UPDATE connections SET ${sets.join(', ')} WHERE ${where}`, params)).rowCount ??
        0) > 0
    );
  };

  return {
    put: (r) =>
      inTransaction(write, async (client) => {
        await client.query(
          `SELECT pg_advisory_xact_lock(hashtext('portcullis.connections'),
             hashtext(json_build_array(current_schema(), $1::text, $2::text, $3::text)::text))`,
          [r.tenant, r.subject, r.upstream],
        );
        const old = (
          await client.query<Row>(
            'DELETE FROM connections WHERE tenant = $1 AND subject = $2 AND upstream = $3 RETURNING *',
            [r.tenant, r.subject, r.upstream],
          )
        ).rows.map(toConnection)[0];
        await client.query(
          `INSERT INTO connections (id, tenant, subject, upstream, mode, state, upstream_subject, scopes, created_at, last_used_at, expires_at, broken_reason, sealed)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            r.id,
            r.tenant,
            r.subject,
            r.upstream,
            r.mode,
            r.state,
            r.upstreamSubject,
            JSON.stringify(r.scopes),
            r.createdAt.getTime(),
            r.lastUsedAt?.getTime() ?? null,
            r.expiresAt?.getTime() ?? null,
            r.brokenReason,
            r.sealed,
          ],
        );
        return old;
      }),
    get: (id) => one('SELECT * FROM connections WHERE id = $1', [id]),
    find: (tenant, subject, upstream) =>
      one('SELECT * FROM connections WHERE tenant = $1 AND subject = $2 AND upstream = $3', [
        tenant,
        subject,
        upstream,
      ]),
    list: async (f) => {
      const where: string[] = [];
      const params: string[] = [];
      for (const [column, value] of [
        ['tenant', f.tenant],
        ['subject', f.subject],
        ['upstream', f.upstream],
      ] as const) {
        if (value === undefined) continue;
        params.push(value);
        where.push(`${column} = $${params.length}`);
      }
      return (
        await read.query<Row>(
          `SELECT * FROM connections${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
            ORDER BY created_at, id COLLATE "C"`,
          params,
        )
      ).rows.map(toConnection);
    },
    update: (id, patch) => update(id, patch),
    swapSealed: (id, expected, patch) => update(id, patch, expected),
    delete: async (id) =>
      ((await write.query('DELETE FROM connections WHERE id = $1', [id])).rowCount ?? 0) > 0,
    deleteOf: async (subject, tenant) =>
      (tenant === undefined
        ? await write.query('DELETE FROM connections WHERE subject = $1', [subject])
        : await write.query('DELETE FROM connections WHERE subject = $1 AND tenant = $2', [subject, tenant])
      ).rowCount ?? 0,
    dataKeys: async () =>
      (
        await read.query<Row>('SELECT * FROM vault_data_keys ORDER BY created_at, kek_id COLLATE "C"')
      ).rows.map((k) => ({
        dataKeyId: k.data_key_id as string,
        kekId: k.kek_id as string,
        wrapped: k.wrapped as string,
        createdAt: new Date(k.created_at as number),
      })),
    addDataKey: async (k) => {
      await write.query(
        `INSERT INTO vault_data_keys (data_key_id, kek_id, wrapped, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
        [k.dataKeyId, k.kekId, k.wrapped, k.createdAt.getTime()],
      );
    },
    // NOT EXISTS alone would let two READ COMMITTED inserts both see an empty table: the lock
    // (per schema) makes the second wait and then see the first one's key.
    addFirstDataKey: (k) =>
      inTransaction(write, async (client) => {
        await client.query(
          "SELECT pg_advisory_xact_lock(hashtext('portcullis.vault'), hashtext(current_schema()))",
        );
        const added = await client.query(
          `INSERT INTO vault_data_keys (data_key_id, kek_id, wrapped, created_at)
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM vault_data_keys)`,
          [k.dataKeyId, k.kekId, k.wrapped, k.createdAt.getTime()],
        );
        return (added.rowCount ?? 0) > 0;
      }),
    retireDataKeys: async (kekId) =>
      (await write.query('DELETE FROM vault_data_keys WHERE kek_id <> $1', [kekId])).rowCount ?? 0,
  };
}
