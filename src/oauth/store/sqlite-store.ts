import type Database from 'better-sqlite3';
import type { GrantSummary, ModelPayload, OAuthStore } from './contracts.js';
import { grantSummary } from './grant-summary.js';

/** The OAuth tables, as append-only migrations; docs/storage.md describes them. */
export const OAUTH_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE oauth_models (
    model TEXT NOT NULL,
    id TEXT NOT NULL,
    payload TEXT NOT NULL,           -- oidc-provider's JSON payload
    grant_id TEXT,
    uid TEXT,
    user_code TEXT,
    account_id TEXT,
    client_id TEXT,
    expires_at INTEGER,              -- ms since epoch; NULL never expires
    consumed_at INTEGER,
    PRIMARY KEY (model, id)
  ) STRICT;
  CREATE INDEX oauth_models_by_grant ON oauth_models (grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX oauth_models_by_uid ON oauth_models (model, uid) WHERE uid IS NOT NULL;
  CREATE INDEX oauth_models_by_user_code ON oauth_models (model, user_code) WHERE user_code IS NOT NULL;
  CREATE INDEX oauth_models_by_account ON oauth_models (model, account_id) WHERE account_id IS NOT NULL;
  CREATE INDEX oauth_models_by_client ON oauth_models (client_id) WHERE client_id IS NOT NULL;
  CREATE INDEX oauth_models_by_expiry ON oauth_models (expires_at) WHERE expires_at IS NOT NULL;
  CREATE TABLE oauth_revoked_clients (
    client_id TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE oauth_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) STRICT;
  INSERT INTO oauth_meta (key, value) VALUES ('revocation_epoch', 0);
  `,
  // Clients created by `portcullis clients create` before the created-by marker existed get it:
  // their 20-character pcc_ ids and the absence of application_type (which oidc-provider writes
  // on every registration) tell them from registered clients, whose ids are longer and random.
  `
  UPDATE oauth_models SET payload = json_set(payload, '$.portcullis_created_by', 'operator')
   WHERE model = 'Client' AND id LIKE 'pcc\\_%' ESCAPE '\\' AND length(id) = 20
     AND json_extract(payload, '$.application_type') IS NULL;
  `,
];

interface Row {
  id: string;
  payload: string;
  expires_at: number | null;
  consumed_at: number | null;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** `read`: a connection opened read-only for every look-up (defaults to `db`). */
export function createSqliteOAuthStore(db: Database.Database, read: Database.Database = db): OAuthStore {
  const stmt = {
    upsert: db.prepare(
      `INSERT INTO oauth_models (model, id, payload, grant_id, uid, user_code, account_id, client_id, expires_at)
       VALUES (@model, @id, @payload, @grant_id, @uid, @user_code, @account_id, @client_id, @expires_at)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
         uid = excluded.uid, user_code = excluded.user_code, account_id = excluded.account_id,
         client_id = excluded.client_id, expires_at = excluded.expires_at`,
    ),
    find: read.prepare<[string, string, number], Row>(
      'SELECT id, payload, expires_at, consumed_at FROM oauth_models WHERE model = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)',
    ),
    findByUid: read.prepare<[string, string, number], Row>(
      'SELECT id, payload, expires_at, consumed_at FROM oauth_models WHERE model = ? AND uid = ? AND (expires_at IS NULL OR expires_at > ?)',
    ),
    findByUserCode: read.prepare<[string, string, number], Row>(
      'SELECT id, payload, expires_at, consumed_at FROM oauth_models WHERE model = ? AND user_code = ? AND (expires_at IS NULL OR expires_at > ?)',
    ),
    consume: db.prepare<[number, string, string]>(
      'UPDATE oauth_models SET consumed_at = COALESCE(consumed_at, ?) WHERE model = ? AND id = ?',
    ),
    destroy: db.prepare<[string, string]>('DELETE FROM oauth_models WHERE model = ? AND id = ?'),
    revokeGrant: db.prepare<[string, string]>(
      "DELETE FROM oauth_models WHERE grant_id = ? OR (model = 'Grant' AND id = ?)",
    ),
    grants: read.prepare<[{ now: number; account: string | null; client: string | null }], Row>(
      `SELECT id, payload, expires_at, consumed_at FROM oauth_models
        WHERE model = 'Grant' AND (expires_at IS NULL OR expires_at > @now)
          AND (@account IS NULL OR account_id = @account) AND (@client IS NULL OR client_id = @client)`,
    ),
    clients: read.prepare<[], Row>(
      "SELECT id, payload, expires_at, consumed_at FROM oauth_models WHERE model = 'Client' ORDER BY id",
    ),
    deleteClient: db.prepare<[string, string]>(
      "DELETE FROM oauth_models WHERE (model = 'Client' AND id = ?) OR client_id = ?",
    ),
    markRevoked: db.prepare<[string, number]>(
      'INSERT INTO oauth_revoked_clients (client_id, revoked_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
    ),
    isRevoked: read.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM oauth_revoked_clients WHERE client_id = ?',
    ),
    bump: db.prepare("UPDATE oauth_meta SET value = value + 1 WHERE key = 'revocation_epoch'"),
    epoch: read.prepare<[], { value: number }>("SELECT value FROM oauth_meta WHERE key = 'revocation_epoch'"),
    purge: db.prepare<[number]>('DELETE FROM oauth_models WHERE expires_at IS NOT NULL AND expires_at <= ?'),
    countRegistered: read.prepare<[number], { n: number }>(
      `SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Client' AND (expires_at IS NULL OR expires_at > ?)
          AND json_extract(payload, '$.portcullis_created_by') IS NULL`,
    ),
    keepClient: db.prepare<[string]>(
      `UPDATE oauth_models SET expires_at = NULL
        WHERE model IN ('Client', 'SeenMetadataDocument') AND id = ? AND expires_at IS NOT NULL`,
    ),
  };

  const parse = (r: Row | undefined): ModelPayload | undefined => {
    if (!r) return undefined;
    const payload = JSON.parse(r.payload) as ModelPayload;
    return r.consumed_at === null ? payload : { ...payload, consumed: Math.floor(r.consumed_at / 1000) };
  };
  const inTransaction = <A extends unknown[]>(fn: (...args: A) => void) => db.transaction(fn);
  const destroy = inTransaction((model: string, id: string) => {
    if (stmt.destroy.run(model, id).changes > 0 && (model === 'Grant' || model === 'Client')) stmt.bump.run();
  });
  const revokeGrant = inTransaction((grantId: string) => {
    stmt.revokeGrant.run(grantId, grantId);
    stmt.bump.run();
  });
  let known = false;
  const revokeClient = inTransaction((clientId: string, at: number) => {
    known = stmt.deleteClient.run(clientId, clientId).changes > 0;
    stmt.markRevoked.run(clientId, at);
    stmt.bump.run();
  });

  return {
    upsert: async (model, id, payload, expiresAt) => {
      stmt.upsert.run({
        model,
        id,
        payload: JSON.stringify(payload),
        grant_id: str(payload.grantId),
        uid: str(payload.uid),
        user_code: str(payload.userCode),
        account_id: str(payload.accountId),
        client_id: str(payload.clientId),
        expires_at: expiresAt?.getTime() ?? null,
      });
    },
    find: async (model, id, now) => parse(stmt.find.get(model, id, now.getTime())),
    findByUid: async (model, uid, now) => parse(stmt.findByUid.get(model, uid, now.getTime())),
    findByUserCode: async (model, code, now) => parse(stmt.findByUserCode.get(model, code, now.getTime())),
    consume: async (model, id, at) => {
      stmt.consume.run(at.getTime(), model, id);
    },
    destroy: async (model, id) => destroy(model, id),
    revokeByGrantId: async (grantId) => revokeGrant(grantId),
    listGrants: async (filter, now): Promise<GrantSummary[]> =>
      stmt.grants
        .all({ now: now.getTime(), account: filter.accountId ?? null, client: filter.clientId ?? null })
        .map((r) => grantSummary(r.id, parse(r)!, r.expires_at === null ? null : new Date(r.expires_at)))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id)),
    listClients: async () => stmt.clients.all().map((r) => parse(r)!),
    countRegisteredClients: async (now) => stmt.countRegistered.get(now.getTime())?.n ?? 0,
    markClientUsed: async (clientId) => {
      stmt.keepClient.run(clientId);
    },
    revokeClient: async (clientId, at) => {
      revokeClient(clientId, at.getTime());
      return known;
    },
    isClientRevoked: async (clientId) => stmt.isRevoked.get(clientId) !== undefined,
    revocationEpoch: async () => stmt.epoch.get()?.value ?? 0,
    purgeExpired: async (now) => stmt.purge.run(now.getTime()).changes,
    close: async () => {},
  };
}
