import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PortcullisError } from '../../errors/index.js';

/**
 * Opens (creating if needed) a connection to the gateway's SQLite file in WAL mode, so the
 * gateway's connections and an admin command's can use it at once, then runs `migrate`.
 * Failures become one storage error naming the file; the cause goes to the detail.
 */
export function openSqliteDatabase(
  file: string,
  migrate: (db: Database.Database) => void,
): Database.Database {
  let db: Database.Database | undefined;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    const newer = /newer than this Portcullis/.test(String(err));
    throw new PortcullisError(
      'storage-failure',
      newer
        ? `The database at ${file} has a schema newer than this Portcullis; upgrade Portcullis.`
        : `Cannot open the database at ${file}`,
      {
        detail: String(err),
        cause: err,
      },
    );
  }
}

/**
 * A second connection to an existing, migrated file, opened read-only: the read path of the
 * stores. SQLite refuses every write on it (SQLITE_READONLY), whatever the SQL says.
 */
export function openSqliteReadConnection(file: string): Database.Database {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return db;
  } catch (err) {
    throw new PortcullisError('storage-failure', `Cannot open the database at ${file} for reading`, {
      detail: String(err),
      cause: err,
    });
  }
}
