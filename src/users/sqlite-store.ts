import type Database from 'better-sqlite3';
import { createRevisionCache } from '../storage/index.js';
import type { AccountSession, SetupLink, UserRecord, UserStore } from './contracts.js';

/**
 * The users tables, as append-only migrations. They live in the gateway's one SQLite file; the
 * OAuth database opener (src/oauth/store/open-oauth-database.ts) applies them in order.
 */
export const USER_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    name TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    password_hash TEXT,
    federated_issuer TEXT,
    federated_subject TEXT,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER,
    last_login_at INTEGER
  ) STRICT;
  CREATE UNIQUE INDEX users_by_federated ON users (federated_issuer, federated_subject)
    WHERE federated_issuer IS NOT NULL;
  CREATE TABLE account_sessions (
    id_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX account_sessions_by_user ON account_sessions (user_name);
  `,
  // Roles (issue 10, finding 2). People who could sign in before roles existed become members;
  // federated people get theirs from oauth.federation.roles at their next sign-in.
  `
  ALTER TABLE users ADD COLUMN role TEXT;
  UPDATE users SET role = 'member' WHERE federated_issuer IS NULL;
  `,
  // One-time setup links (issue 14): the first run's admin sets a password through one.
  `
  CREATE TABLE setup_links (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  ) STRICT;
  CREATE INDEX setup_links_by_user ON setup_links (user_name);
  `,
  // Issue 17: a person is looked up on every call (their role caps the credential); the look-up
  // is cached while this counter stands still. Triggers move it in the same transaction as every
  // change to `users`, by any connection (the CLI, another gateway on the file), so disabling a
  // person or lowering their role still stops their next call.
  `
  CREATE TABLE users_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
  ) STRICT;
  INSERT INTO users_revision (id, n) VALUES (1, random() >> 11);
  CREATE TRIGGER users_revision_on_insert AFTER INSERT ON users
    BEGIN UPDATE users_revision SET n = random() >> 11; END;
  CREATE TRIGGER users_revision_on_update AFTER UPDATE ON users
    BEGIN UPDATE users_revision SET n = random() >> 11; END;
  CREATE TRIGGER users_revision_on_delete AFTER DELETE ON users
    BEGIN UPDATE users_revision SET n = random() >> 11; END;
  `,
];

interface UserRow {
  name: string;
  tenant: string;
  password_hash: string | null;
  federated_issuer: string | null;
  federated_subject: string | null;
  role: string | null;
  created_at: number;
  disabled_at: number | null;
  last_login_at: number | null;
}

const toDate = (ms: number | null) => (ms === null ? null : new Date(ms));

function rowToUser(r: UserRow): UserRecord {
  return {
    name: r.name,
    tenant: r.tenant,
    passwordHash: r.password_hash,
    federatedIssuer: r.federated_issuer,
    federatedSubject: r.federated_subject,
    role: r.role,
    createdAt: new Date(r.created_at),
    disabledAt: toDate(r.disabled_at),
    lastLoginAt: toDate(r.last_login_at),
  };
}

/** The user store over an open, migrated database handle; look-ups on `read` (opened read-only). */
export function createSqliteUserStore(db: Database.Database, read: Database.Database = db): UserStore {
  const stmt = {
    insert: db.prepare(
      `INSERT INTO users (name, tenant, password_hash, federated_issuer, federated_subject, role, created_at, disabled_at, last_login_at)
       VALUES (@name, @tenant, @password_hash, @federated_issuer, @federated_subject, @role, @created_at, @disabled_at, @last_login_at)`,
    ),
    find: read.prepare<[string], UserRow>('SELECT * FROM users WHERE name = ?'),
    list: read.prepare<[], UserRow>('SELECT * FROM users ORDER BY name'),
    disable: db.prepare<[number, string]>(
      'UPDATE users SET disabled_at = COALESCE(disabled_at, ?) WHERE name = ?',
    ),
    setRole: db.prepare<[string | null, string]>('UPDATE users SET role = ? WHERE name = ?'),
    login: db.prepare<[number, string]>('UPDATE users SET last_login_at = ? WHERE name = ?'),
    createSession: db.prepare(
      'INSERT INTO account_sessions (id_hash, user_name, created_at, expires_at) VALUES (?, ?, ?, ?)',
    ),
    findSession: read.prepare<
      [string, number],
      { id_hash: string; user_name: string; created_at: number; expires_at: number }
    >('SELECT * FROM account_sessions WHERE id_hash = ? AND expires_at > ?'),
    deleteSession: db.prepare<[string]>('DELETE FROM account_sessions WHERE id_hash = ?'),
    deleteSessionsOf: db.prepare<[string]>('DELETE FROM account_sessions WHERE user_name = ?'),
    deleteUser: db.prepare<[string]>('DELETE FROM users WHERE name = ?'),
    setPassword: db.prepare<[string, string]>('UPDATE users SET password_hash = ? WHERE name = ?'),
    dropLinksOf: db.prepare<[string]>('DELETE FROM setup_links WHERE user_name = ?'),
    insertLink: db.prepare<[string, string, number, number]>(
      'INSERT INTO setup_links (token_hash, user_name, created_at, expires_at) VALUES (?, ?, ?, ?)',
    ),
    findLink: read.prepare<
      [string, number],
      { token_hash: string; user_name: string; created_at: number; expires_at: number }
    >('SELECT * FROM setup_links WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?'),
    useLink: db.prepare<[number, string, number], { user_name: string }>(
      'UPDATE setup_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_name',
    ),
  };
  const byName = createRevisionCache<UserRecord | undefined>(read, 'users_revision');
  const deleteUser = db.transaction((name: string): boolean => {
    stmt.deleteSessionsOf.run(name);
    stmt.dropLinksOf.run(name);
    return stmt.deleteUser.run(name).changes > 0;
  });
  const createLink = db.transaction((l: SetupLink) => {
    stmt.dropLinksOf.run(l.userName);
    stmt.insertLink.run(l.tokenHash, l.userName, l.createdAt.getTime(), l.expiresAt.getTime());
  });
  return {
    insert: async (u) => {
      stmt.insert.run({
        name: u.name,
        tenant: u.tenant,
        password_hash: u.passwordHash,
        federated_issuer: u.federatedIssuer,
        federated_subject: u.federatedSubject,
        role: u.role,
        created_at: u.createdAt.getTime(),
        disabled_at: u.disabledAt?.getTime() ?? null,
        last_login_at: u.lastLoginAt?.getTime() ?? null,
      });
    },
    // Read on every call for the person's ceiling; cached while `users` is unchanged (see
    // storage's revision-cache), so a disabled person or a lowered role applies at the next call.
    find: async (name) =>
      byName.get(name, () => {
        const r = stmt.find.get(name);
        return r && rowToUser(r);
      }),
    list: async () => stmt.list.all().map(rowToUser),
    disable: async (name, at) => stmt.disable.run(at.getTime(), name).changes > 0,
    setRole: async (name, role) => stmt.setRole.run(role, name).changes > 0,
    recordLogin: async (name, at) => {
      stmt.login.run(at.getTime(), name);
    },
    createSession: async (s: AccountSession) => {
      stmt.createSession.run(s.idHash, s.userName, s.createdAt.getTime(), s.expiresAt.getTime());
    },
    findSession: async (idHash, now) => {
      const r = stmt.findSession.get(idHash, now.getTime());
      return (
        r && {
          idHash: r.id_hash,
          userName: r.user_name,
          createdAt: new Date(r.created_at),
          expiresAt: new Date(r.expires_at),
        }
      );
    },
    deleteSession: async (idHash) => {
      stmt.deleteSession.run(idHash);
    },
    deleteSessionsOf: async (userName) => {
      stmt.deleteSessionsOf.run(userName);
    },
    delete: async (name) => deleteUser(name),
    setPassword: async (name, passwordHash) => stmt.setPassword.run(passwordHash, name).changes > 0,
    createSetupLink: async (link) => {
      createLink(link);
    },
    findSetupLink: async (hash, now) => {
      const r = stmt.findLink.get(hash, now.getTime());
      return (
        r && {
          tokenHash: r.token_hash,
          userName: r.user_name,
          createdAt: new Date(r.created_at),
          expiresAt: new Date(r.expires_at),
        }
      );
    },
    useSetupLink: async (hash, now) => stmt.useLink.get(now.getTime(), hash, now.getTime())?.user_name,
  };
}
