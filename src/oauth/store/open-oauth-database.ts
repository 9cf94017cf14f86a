import type Database from 'better-sqlite3';
import { openSqliteDatabase } from '../../storage/index.js';
import {
  createSqliteUserStore,
  openMemoryUserStore,
  USER_MIGRATIONS,
  type UserStore,
} from '../../users/index.js';
import type { OAuthStore } from './contracts.js';
import { openMemoryOAuthStore } from './memory-store.js';
import { createSqliteOAuthStore, OAUTH_MIGRATIONS } from './sqlite-store.js';

/** The OAuth and user stores, opened together on one backend. */
export interface OAuthDatabase {
  readonly oauth: OAuthStore;
  readonly users: UserStore;
  close(): Promise<void>;
}

/**
 * Applies one component's migrations. The gateway's core tables version themselves with
 * `PRAGMA user_version`; components that share the file keep their own row in
 * `schema_migrations`, so neither can disturb the other's numbering.
 */
function migrateComponent(db: Database.Database, component: string, migrations: readonly string[]): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT',
  );
  const row = db
    .prepare<[string], { version: number }>('SELECT version FROM schema_migrations WHERE component = ?')
    .get(component);
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new Error(
      `${component} schema version ${current} is newer than this Portcullis; upgrade Portcullis`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.prepare(
        'INSERT INTO schema_migrations (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version',
      ).run(component, v + 1);
    })();
  }
}

/**
 * Opens the OAuth and user tables in the gateway's SQLite file, on a connection of their own (WAL
 * lets it sit beside the core storage's connection and the CLI's).
 */
export function openSqliteOAuthDatabase(file: string): OAuthDatabase {
  const db = openSqliteDatabase(file, (conn) => {
    migrateComponent(conn, 'oauth', OAUTH_MIGRATIONS);
    migrateComponent(conn, 'users', USER_MIGRATIONS);
  });
  return {
    oauth: createSqliteOAuthStore(db),
    users: createSqliteUserStore(db),
    close: async () => {
      db.close();
    },
  };
}

export function openMemoryOAuthDatabase(): OAuthDatabase {
  return { oauth: openMemoryOAuthStore(), users: openMemoryUserStore(), close: async () => {} };
}
