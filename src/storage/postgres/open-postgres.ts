import type pg from 'pg';
import type {
  ApiKeyRecord,
  ApiKeyStore,
  ConfirmationStore,
  EffectJournal,
  EffectMark,
  NoteStore,
  PendingApproval,
  QuarantineItem,
  QuarantineStore,
  Storage,
  TaintStore,
} from '../contracts.js';
import { EFFECT_JOURNAL_RETENTION_MS, makeSnippet, queryTerms } from '../contracts.js';
import { PortcullisError } from '../../errors/index.js';
import { CORE_PG_SCHEMA } from './migrations.js';
import { migratePgComponents } from './migrate-with.js';
import { createPostgresConnections } from './postgres-connections.js';
import { createPostgresPins } from './postgres-pins.js';
import { inTransaction, openPgPools, type PgPools, type PgStorageConfig } from './open-pools.js';

type Row = Record<string, unknown>;
const ms = (d: Date | null | undefined) => (d ? d.getTime() : null);
const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as number));

const toKey = (r: Row): ApiKeyRecord => ({
  id: r.id as string,
  hash: r.hash as string,
  owner: r.owner as string,
  tenant: r.tenant as string,
  label: r.label as string,
  scopes: r.scopes as string[],
  createdAt: new Date(r.created_at as number),
  expiresAt: date(r.expires_at),
  lastUsedAt: date(r.last_used_at),
  revokedAt: date(r.revoked_at),
});

const toQuarantine = (r: Row): QuarantineItem => ({
  id: r.id as string,
  tenant: r.tenant as string,
  principal: r.principal as string,
  tool: r.tool as string,
  correlationId: r.correlation_id as string,
  createdAt: new Date(r.created_at as number),
  status: r.status as QuarantineItem['status'],
  decidedAt: date(r.decided_at),
  result: r.result as string | null,
  findings: r.findings as string,
});

const toApproval = (r: Row): PendingApproval => ({
  id: r.id as string,
  binding: r.binding as string,
  subject: r.subject as string,
  tenant: r.tenant as string,
  clientId: r.client_id as string | null,
  tool: r.tool as string,
  upstream: r.upstream as string | null,
  argsHash: r.args_hash as string,
  args: r.args as string | null,
  createdAt: new Date(r.created_at as number),
  expiresAt: new Date(r.expires_at as number),
  status: r.status as PendingApproval['status'],
  decidedAt: date(r.decided_at),
});

/**
 * Opens the core storage on PostgreSQL: migrates the schema over the owner connection, then
 * serves writes from the write pool and every read from the read-only pool.
 */
export async function openPostgresStorage(
  config: PgStorageConfig,
  env?: NodeJS.ProcessEnv,
): Promise<Storage> {
  await migratePgComponents(config, [CORE_PG_SCHEMA], env ? { env } : {});
  return createPostgresStorage(await openPgPools(config, env));
}

/** The core storage over open pools (closing it closes them). */
export function createPostgresStorage(pools: PgPools): Storage {
  const { read, write } = pools;
  const rows = async (pool: pg.Pool | pg.PoolClient, sql: string, params: unknown[] = []) =>
    (await pool.query<Row>(sql, params)).rows;
  const changed = async (pool: pg.Pool | pg.PoolClient, sql: string, params: unknown[]) =>
    ((await pool.query(sql, params)).rowCount ?? 0) > 0;

  const apiKeys: ApiKeyStore = {
    insert: async (k) => {
      await write.query(
        `INSERT INTO api_keys (id, hash, owner, tenant, label, scopes, created_at, expires_at, last_used_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          k.id,
          k.hash,
          k.owner,
          k.tenant,
          k.label,
          JSON.stringify(k.scopes),
          ms(k.createdAt),
          ms(k.expiresAt),
          ms(k.lastUsedAt),
          ms(k.revokedAt),
        ],
      );
    },
    findById: async (id) => (await rows(read, 'SELECT * FROM api_keys WHERE id = $1', [id])).map(toKey)[0],
    list: async () => (await rows(read, 'SELECT * FROM api_keys ORDER BY created_at, id')).map(toKey),
    revoke: (id, at) =>
      changed(write, 'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2', [ms(at), id]),
    touchLastUsed: async (id, at) => {
      await write.query('UPDATE api_keys SET last_used_at = $1 WHERE id = $2', [ms(at), id]);
    },
  };

  /** Journals the effect in the caller's transaction, dropping entries past their retention. */
  const journal = async (client: pg.PoolClient, effect: EffectMark | undefined) => {
    if (!effect) return;
    await client.query('DELETE FROM tool_effects WHERE at < $1', [
      effect.at.getTime() - EFFECT_JOURNAL_RETENTION_MS,
    ]);
    await client.query(
      'INSERT INTO tool_effects (correlation_id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [effect.correlationId, effect.at.getTime()],
    );
  };

  const notes: NoteStore = {
    save: (o, n, effect) =>
      inTransaction(write, async (client) => {
        await client.query(
          `INSERT INTO notes (id, tenant, owner, title, content, tags, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [n.id, o.tenant, o.owner, n.title, n.content, JSON.stringify(n.tags), ms(n.createdAt)],
        );
        await journal(client, effect);
      }),
    search: async (o, query, limit) => {
      const terms = queryTerms(query);
      if (terms.length === 0) return [];
      // plainto_tsquery takes the words as data: no operator, prefix or weight in them is parsed.
      const found = await rows(
        read,
        `SELECT id, title, content FROM notes
          WHERE search @@ plainto_tsquery('simple', $1) AND tenant = $2 AND owner = $3
          ORDER BY ts_rank(search, plainto_tsquery('simple', $1)) DESC, created_at, id LIMIT $4`,
        [terms.join(' '), o.tenant, o.owner, limit],
      );
      return found.map((r) => ({
        id: r.id as string,
        title: r.title as string,
        snippet: makeSnippet(r.content as string, terms),
      }));
    },
    get: async (o, id) =>
      (
        await rows(
          read,
          'SELECT id, title, content, tags, created_at FROM notes WHERE id = $1 AND tenant = $2 AND owner = $3',
          [id, o.tenant, o.owner],
        )
      ).map((r) => ({
        id: r.id as string,
        title: r.title as string,
        content: r.content as string,
        tags: r.tags as string[],
        createdAt: new Date(r.created_at as number),
      }))[0],
    delete: (o, id, effect) =>
      inTransaction(write, async (client) => {
        const deleted = await changed(
          client,
          'DELETE FROM notes WHERE id = $1 AND tenant = $2 AND owner = $3',
          [id, o.tenant, o.owner],
        );
        if (deleted) await journal(client, effect);
        return deleted;
      }),
  };

  const effects: EffectJournal = {
    committed: async (id) =>
      (await rows(read, 'SELECT 1 FROM tool_effects WHERE correlation_id = $1', [id])).length > 0,
  };

  const quarantine: QuarantineStore = {
    insert: async (i) => {
      await write.query(
        `INSERT INTO quarantine (id, tenant, principal, tool, correlation_id, created_at, status, decided_at, result, findings)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          i.id,
          i.tenant,
          i.principal,
          i.tool,
          i.correlationId,
          ms(i.createdAt),
          i.status,
          ms(i.decidedAt),
          i.result,
          i.findings,
        ],
      );
    },
    get: async (id) =>
      (await rows(read, 'SELECT * FROM quarantine WHERE id = $1', [id])).map(toQuarantine)[0],
    list: async ({ status, limit }) =>
      (status
        ? await rows(
            read,
            'SELECT * FROM quarantine WHERE status = $1 ORDER BY created_at DESC, id LIMIT $2',
            [status, limit],
          )
        : await rows(read, 'SELECT * FROM quarantine ORDER BY created_at DESC, id LIMIT $1', [limit])
      ).map(toQuarantine),
    decide: (id, status, at) =>
      changed(
        write,
        status === 'released'
          ? "UPDATE quarantine SET status = 'released', decided_at = $1 WHERE id = $2 AND status = 'pending'"
          : "UPDATE quarantine SET status = 'discarded', decided_at = $1, result = NULL WHERE id = $2 AND status = 'pending'",
        [ms(at), id],
      ),
  };

  const confirmations: ConfirmationStore = {
    useNonce: (nonce, expiresAt) =>
      changed(
        write,
        'INSERT INTO confirmation_nonces (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING',
        [nonce, ms(expiresAt)],
      ),
    insertApproval: async (a) => {
      await write.query(
        `INSERT INTO approvals (id, binding, subject, tenant, client_id, tool, upstream, args_hash, args, created_at, expires_at, status, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [
          a.id,
          a.binding,
          a.subject,
          a.tenant,
          a.clientId,
          a.tool,
          a.upstream,
          a.argsHash,
          a.args,
          ms(a.createdAt),
          ms(a.expiresAt),
          a.status,
          ms(a.decidedAt),
        ],
      );
    },
    getApproval: async (id) =>
      (await rows(read, 'SELECT * FROM approvals WHERE id = $1', [id])).map(toApproval)[0],
    listApprovals: async ({ pending, now, limit }) =>
      (pending
        ? await rows(
            read,
            `SELECT * FROM approvals WHERE status = 'pending' AND expires_at > $1
              ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $2`,
            [ms(now), limit],
          )
        : await rows(read, 'SELECT * FROM approvals ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $1', [
            limit,
          ])
      ).map(toApproval),
    findApproval: async (binding, tool, argsHash) =>
      (
        await rows(
          read,
          `SELECT * FROM approvals WHERE binding = $1 AND tool = $2 AND args_hash = $3 AND status != 'used'
            ORDER BY created_at DESC, id DESC LIMIT 1`,
          [binding, tool, argsHash],
        )
      ).map(toApproval)[0],
    decideApproval: (id, status, at) =>
      changed(
        write,
        `UPDATE approvals SET status = $1, decided_at = $2, args = NULL WHERE id = $3 AND status = 'pending' AND expires_at > $2`,
        [status, ms(at), id],
      ),
    useApproval: (id) =>
      changed(
        write,
        "UPDATE approvals SET status = 'used', args = NULL WHERE id = $1 AND status IN ('approved', 'denied')",
        [id],
      ),
    purge: async (now) => {
      await write.query('DELETE FROM confirmation_nonces WHERE expires_at <= $1', [ms(now)]);
      await write.query('DELETE FROM approvals WHERE expires_at <= $1', [now.getTime() - 86_400_000]);
    },
  };

  const taint: TaintStore = {
    live: async (person, now) =>
      (
        await rows(read, 'SELECT label FROM taint WHERE person = $1 AND expires_at > $2 ORDER BY label', [
          person,
          ms(now),
        ])
      ).map((r) => r.label as string),
    record: async (person, labels, expiresAt) => {
      if (labels.length === 0) return;
      await write.query(
        `INSERT INTO taint (person, label, expires_at) SELECT $1, l, $3 FROM unnest($2::text[]) AS l
           ON CONFLICT (person, label) DO UPDATE SET expires_at = excluded.expires_at
           WHERE excluded.expires_at > taint.expires_at`,
        [person, [...new Set(labels)], ms(expiresAt)],
      );
    },
    purge: async (now) => {
      await write.query('DELETE FROM taint WHERE expires_at <= $1', [ms(now)]);
    },
  };

  return {
    apiKeys: guard(apiKeys),
    notes: guard(notes),
    effects: guard(effects),
    quarantine: guard(quarantine),
    confirmations: guard(confirmations),
    taint: guard(taint),
    connections: guard(createPostgresConnections(write, read)),
    pins: guard(createPostgresPins(write, read)),
    ping: async () => {
      await guard({ ping: async () => void (await write.query('SELECT 1')) }).ping();
    },
    close: () => pools.close(),
  };
}

/**
 * Driver errors become `storage-failure` with the driver's message as private detail, as SQLite's
 * do; a unique violation is still a rejection the callers see as one (a duplicate id).
 */
function guard<T extends object>(store: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(store)) {
    out[name] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        if (err instanceof PortcullisError) throw err;
        throw new PortcullisError('storage-failure', 'The database could not complete the request.', {
          detail: String(err),
          cause: err,
        });
      }
    };
  }
  return out as T;
}
