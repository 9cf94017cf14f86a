import type pg from 'pg';
import type { GrantSummary, ModelPayload, OAuthStore } from './contracts.js';
import { grantSummary } from './grant-summary.js';
import type { PgSchema } from '../../migrate/index.js';

/** The OAuth tables in PostgreSQL (component `oauth`); the same shape as SQLite's. */
export const OAUTH_PG_SCHEMA: PgSchema = {
  component: 'oauth',
  migrations: [
    `
    CREATE TABLE oauth_models (
      model TEXT NOT NULL,
      id TEXT NOT NULL,
      payload TEXT NOT NULL,
      grant_id TEXT,
      uid TEXT,
      user_code TEXT,
      account_id TEXT,
      client_id TEXT,
      expires_at BIGINT,
      consumed_at BIGINT,
      PRIMARY KEY (model, id)
    );
    CREATE INDEX oauth_models_by_grant ON oauth_models (grant_id) WHERE grant_id IS NOT NULL;
    CREATE INDEX oauth_models_by_uid ON oauth_models (model, uid) WHERE uid IS NOT NULL;
    CREATE INDEX oauth_models_by_user_code ON oauth_models (model, user_code) WHERE user_code IS NOT NULL;
    CREATE INDEX oauth_models_by_account ON oauth_models (model, account_id) WHERE account_id IS NOT NULL;
    CREATE INDEX oauth_models_by_client ON oauth_models (client_id) WHERE client_id IS NOT NULL;
    CREATE INDEX oauth_models_by_expiry ON oauth_models (expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE oauth_revoked_clients (client_id TEXT PRIMARY KEY, revoked_at BIGINT NOT NULL);
    CREATE TABLE oauth_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
    INSERT INTO oauth_meta (key, value) VALUES ('revocation_epoch', 0);
    `,
  ],
};

type Row = { id: string; payload: string; expires_at: number | null; consumed_at: number | null };
const str = (v: unknown) => (typeof v === 'string' ? v : null);
const COLS = 'id, payload, expires_at, consumed_at';

/** The OAuth store over a write pool and a read-only pool (the same pool is fine for tests). */
export function createPostgresOAuthStore(write: pg.Pool, read: pg.Pool): OAuthStore {
  const parse = (r: Row | undefined): ModelPayload | undefined => {
    if (!r) return undefined;
    const payload = JSON.parse(r.payload) as ModelPayload;
    return r.consumed_at === null ? payload : { ...payload, consumed: Math.floor(r.consumed_at / 1000) };
  };
  const one = async (sql: string, params: unknown[]) => parse((await read.query<Row>(sql, params)).rows[0]);
  const tx = async <T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await write.connect();
    try {
      await c.query('BEGIN');
      const out = await work(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  };
  const bump = (c: pg.PoolClient) =>
    c.query("UPDATE oauth_meta SET value = value + 1 WHERE key = 'revocation_epoch'");

  return {
    upsert: async (model, id, payload, expiresAt) => {
      await write.query(
        `INSERT INTO oauth_models (model, id, payload, grant_id, uid, user_code, account_id, client_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
           uid = excluded.uid, user_code = excluded.user_code, account_id = excluded.account_id,
           client_id = excluded.client_id, expires_at = excluded.expires_at`,
        [
          model,
          id,
          JSON.stringify(payload),
          str(payload.grantId),
          str(payload.uid),
          str(payload.userCode),
          str(payload.accountId),
          str(payload.clientId),
          expiresAt?.getTime() ?? null,
        ],
      );
    },
    find: (model, id, now) =>
      one(
        `SELECT ${COLS} FROM oauth_models WHERE model = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > $3)`,
        [model, id, now.getTime()],
      ),
    findByUid: (model, uid, now) =>
      one(
        `SELECT ${COLS} FROM oauth_models WHERE model = $1 AND uid = $2 AND (expires_at IS NULL OR expires_at > $3)`,
        [model, uid, now.getTime()],
      ),
    findByUserCode: (model, code, now) =>
      one(
        `SELECT ${COLS} FROM oauth_models WHERE model = $1 AND user_code = $2 AND (expires_at IS NULL OR expires_at > $3)`,
        [model, code, now.getTime()],
      ),
    consume: async (model, id, at) => {
      await write.query(
        'UPDATE oauth_models SET consumed_at = COALESCE(consumed_at, $1) WHERE model = $2 AND id = $3',
        [at.getTime(), model, id],
      );
    },
    destroy: (model, id) =>
      tx(async (c) => {
        const r = await c.query('DELETE FROM oauth_models WHERE model = $1 AND id = $2', [model, id]);
        if ((r.rowCount ?? 0) > 0 && (model === 'Grant' || model === 'Client')) await bump(c);
      }),
    revokeByGrantId: (grantId) =>
      tx(async (c) => {
        await c.query("DELETE FROM oauth_models WHERE grant_id = $1 OR (model = 'Grant' AND id = $1)", [
          grantId,
        ]);
        await bump(c);
      }),
    listGrants: async (filter, now): Promise<GrantSummary[]> =>
      (
        await read.query<Row>(
          `SELECT ${COLS} FROM oauth_models
            WHERE model = 'Grant' AND (expires_at IS NULL OR expires_at > $1)
              AND ($2::text IS NULL OR account_id = $2) AND ($3::text IS NULL OR client_id = $3)`,
          [now.getTime(), filter.accountId ?? null, filter.clientId ?? null],
        )
      ).rows
        .map((r) => grantSummary(r.id, parse(r)!, r.expires_at === null ? null : new Date(r.expires_at)))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id)),
    listClients: async () =>
      (await read.query<Row>(`SELECT ${COLS} FROM oauth_models WHERE model = 'Client' ORDER BY id`)).rows.map(
        (r) => parse(r)!,
      ),
    countRegisteredClients: async (now) =>
      (
        await read.query<{ n: number }>(
          `SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Client' AND (expires_at IS NULL OR expires_at > $1)
              AND (payload::jsonb ->> 'portcullis_created_by') IS NULL`,
          [now.getTime()],
        )
      ).rows[0]?.n ?? 0,
    markClientUsed: async (clientId) => {
      await write.query(
        `UPDATE oauth_models SET expires_at = NULL
          WHERE model IN ('Client', 'SeenMetadataDocument') AND id = $1 AND expires_at IS NOT NULL`,
        [clientId],
      );
    },
    revokeClient: (clientId, at) =>
      tx(async (c) => {
        const r = await c.query(
          "DELETE FROM oauth_models WHERE (model = 'Client' AND id = $1) OR client_id = $1",
          [clientId],
        );
        await c.query(
          'INSERT INTO oauth_revoked_clients (client_id, revoked_at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
          [clientId, at.getTime()],
        );
        await bump(c);
        return (r.rowCount ?? 0) > 0;
      }),
    isClientRevoked: async (clientId) =>
      ((await read.query('SELECT 1 FROM oauth_revoked_clients WHERE client_id = $1', [clientId])).rowCount ??
        0) > 0,
    revocationEpoch: async () =>
      (await read.query<{ value: number }>("SELECT value FROM oauth_meta WHERE key = 'revocation_epoch'"))
        .rows[0]?.value ?? 0,
    purgeExpired: async (now) =>
      (
        await write.query('DELETE FROM oauth_models WHERE expires_at IS NOT NULL AND expires_at <= $1', [
          now.getTime(),
        ])
      ).rowCount ?? 0,
    close: async () => {},
  };
}
