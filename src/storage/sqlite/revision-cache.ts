import type Database from 'better-sqlite3';

/**
 * Reads of one table kept in memory while the table's revision counter stands still. The counter
 * is moved by triggers (see the `*_revision` tables in the migrations) in the same transaction as
 * every insert, update and delete of the table, whichever connection makes it: this gateway, the
 * CLI, another gateway on the same file, even a hand-typed `sqlite3` UPDATE. So a cached value is
 * never older than the last commit before the call: reading the counter (one integer, a few µs)
 * replaces reading and decoding the row, and a revocation still stops the very next call.
 *
 * The counter is read before the row, so a change committed in between leaves the entry tagged
 * with the older revision, and the next call reloads it.
 *
 * The "counter" is a random tag, not a count: each change draws a new one. A count can come back
 * to a value this process has seen over different rows (an older backup restored into the live
 * file, then as many changes as it was behind); a random tag names one state (collision odds
 * 2^-53 per change). The triggers are checked when the cache is made: a migration that rebuilds
 * the table drops them with it, and the cache would then never hear of a change.
 */
export interface RevisionCache<V> {
  /** The value under `key`: cached if the table has not changed since it was loaded, else `load()`. */
  get(key: string, load: () => V): V;
  /**
   * Rewrites a cached value after this process wrote a column the counter does not follow (an
   * API key's last use); does nothing when `key` is not cached.
   */
  patch(key: string, change: (value: V) => V): void;
}

/**
 * At most this many entries; past it the cache starts over. Keys come from callers that may be
 * anyone (a sign-in's account name), so memory stays bounded whatever they send.
 */
const MAX_ENTRIES = 10_000;

export function createRevisionCache<V>(read: Database.Database, revisionTable: string): RevisionCache<V> {
  const table = revisionTable.replace(/_revision$/, '');
  const triggers = read
    .prepare<[string, string], string>(
      "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name LIKE ? || '_on_%'",
    )
    .pluck()
    .all(table, revisionTable);
  for (const event of ['insert', 'update', 'delete']) {
    if (!triggers.includes(`${revisionTable}_on_${event}`)) {
      throw new Error(
        `${table} has lost its ${revisionTable}_on_${event} trigger: its read cache would go stale`,
      );
    }
  }
  const revision = read.prepare<[], number>(`SELECT n FROM ${revisionTable}`).pluck();
  const entries = new Map<string, V>();
  let loadedAt: number | undefined;
  return {
    get(key, load) {
      const current = revision.get();
      if (current === undefined) return load(); // no counter row: never trust a cache
      if (current !== loadedAt) {
        entries.clear();
        loadedAt = current;
      } else if (entries.has(key)) {
        return entries.get(key)!;
      }
      const value = load();
      if (entries.size >= MAX_ENTRIES) entries.clear();
      entries.set(key, value);
      return value;
    },
    patch(key, change) {
      if (entries.has(key)) entries.set(key, change(entries.get(key)!));
    },
  };
}
