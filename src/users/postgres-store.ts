import type pg from 'pg';
import type { PgSchema } from '../migrate/index.js';
import { inTransaction } from '../storage/index.js';
import type { UserRecord, UserStore } from './contracts.js';

/** The users tables in PostgreSQL (component `users`); the same shape as SQLite's, roles included. */
export const USERS_PG_SCHEMA: PgSchema = {
  component: 'users',
  migrations: [
    `
    CREATE TABLE users (
      name TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      password_hash TEXT,
      federated_issuer TEXT,
      federated_subject TEXT,
      role TEXT,
      created_at BIGINT NOT NULL,
      disabled_at BIGINT,
      last_login_at BIGINT
    );
    CREATE UNIQUE INDEX users_by_federated ON users (federated_issuer, federated_subject)
      WHERE federated_issuer IS NOT NULL;
    CREATE TABLE account_sessions (
      id_hash TEXT PRIMARY KEY,
      user_name TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    );
    CREATE INDEX account_sessions_by_user ON account_sessions (user_name);
    `,
    // One-time setup links (issue 14): the first run's admin sets a password through one.
    `
    CREATE TABLE setup_links (
      token_hash TEXT PRIMARY KEY,
      user_name TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      used_at BIGINT
    );
    CREATE INDEX setup_links_by_user ON setup_links (user_name);
    `,
  ],
};

type Row = Record<string, unknown>;
const date = (v: unknown) => (v === null ? null : new Date(v as number));

const toUser = (r: Row): UserRecord => ({
  name: r.name as string,
  tenant: r.tenant as string,
  passwordHash: r.password_hash as string | null,
  federatedIssuer: r.federated_issuer as string | null,
  federatedSubject: r.federated_subject as string | null,
  role: r.role as string | null,
  createdAt: new Date(r.created_at as number),
  disabledAt: date(r.disabled_at),
  lastLoginAt: date(r.last_login_at),
});

/** The user store over a write pool and a read-only pool. */
export function createPostgresUserStore(write: pg.Pool, read: pg.Pool): UserStore {
  const changed = async (sql: string, params: unknown[]) =>
    ((await write.query(sql, params)).rowCount ?? 0) > 0;
  return {
    insert: async (u) => {
      await write.query(
        `INSERT INTO users (name, tenant, password_hash, federated_issuer, federated_subject, role, created_at, disabled_at, last_login_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          u.name,
          u.tenant,
          u.passwordHash,
          u.federatedIssuer,
          u.federatedSubject,
          u.role,
          u.createdAt.getTime(),
          u.disabledAt?.getTime() ?? null,
          u.lastLoginAt?.getTime() ?? null,
        ],
      );
    },
    find: async (name) =>
      (await read.query<Row>('SELECT * FROM users WHERE name = $1', [name])).rows.map(toUser)[0],
    list: async () => (await read.query<Row>('SELECT * FROM users ORDER BY name')).rows.map(toUser),
    disable: (name, at) =>
      changed('UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE name = $2', [
        at.getTime(),
        name,
      ]),
    setRole: (name, role) => changed('UPDATE users SET role = $1 WHERE name = $2', [role, name]),
    recordLogin: async (name, at) => {
      await write.query('UPDATE users SET last_login_at = $1 WHERE name = $2', [at.getTime(), name]);
    },
    createSession: async (s) => {
      await write.query(
        'INSERT INTO account_sessions (id_hash, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4)',
        [s.idHash, s.userName, s.createdAt.getTime(), s.expiresAt.getTime()],
      );
    },
    findSession: async (idHash, now) =>
      (
        await read.query<Row>('SELECT * FROM account_sessions WHERE id_hash = $1 AND expires_at > $2', [
          idHash,
          now.getTime(),
        ])
      ).rows.map((r) => ({
        idHash: r.id_hash as string,
        userName: r.user_name as string,
        createdAt: new Date(r.created_at as number),
        expiresAt: new Date(r.expires_at as number),
      }))[0],
    deleteSession: async (idHash) => {
      await write.query('DELETE FROM account_sessions WHERE id_hash = $1', [idHash]);
    },
    deleteSessionsOf: async (userName) => {
      await write.query('DELETE FROM account_sessions WHERE user_name = $1', [userName]);
    },
    delete: (name) =>
      inTransaction(write, async (client) => {
        await client.query('DELETE FROM account_sessions WHERE user_name = $1', [name]);
        await client.query('DELETE FROM setup_links WHERE user_name = $1', [name]);
        return ((await client.query('DELETE FROM users WHERE name = $1', [name])).rowCount ?? 0) > 0;
      }),
    setPassword: (name, passwordHash) =>
      changed('UPDATE users SET password_hash = $1 WHERE name = $2', [passwordHash, name]),
    createSetupLink: (l) =>
      inTransaction(write, async (client) => {
        // A new link replaces the person's earlier ones.
        await client.query('DELETE FROM setup_links WHERE user_name = $1', [l.userName]);
        await client.query(
          'INSERT INTO setup_links (token_hash, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4)',
          [l.tokenHash, l.userName, l.createdAt.getTime(), l.expiresAt.getTime()],
        );
      }),
    findSetupLink: async (hash, now) =>
      (
        await read.query<Row>(
          'SELECT * FROM setup_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2',
          [hash, now.getTime()],
        )
      ).rows.map((r) => ({
        tokenHash: r.token_hash as string,
        userName: r.user_name as string,
        createdAt: new Date(r.created_at as number),
        expiresAt: new Date(r.expires_at as number),
      }))[0],
    // One UPDATE with its condition: of two concurrent uses, exactly one changes the row.
    useSetupLink: async (hash, now) =>
      (
        await write.query<Row>(
          'UPDATE setup_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_name',
          [now.getTime(), hash],
        )
      ).rows[0]?.user_name as string | undefined,
  };
}
