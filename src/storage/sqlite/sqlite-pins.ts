import type Database from 'better-sqlite3';
import type { PinChange, PinStore, UpstreamPins } from '../contracts.js';
import { definitionText, pinsFromRows, type ApprovedRow, type RejectedRow } from '../pin-rows.js';

/**
 * The pin store over the core SQLite file (tables of core migration 7): reads on `read` (opened
 * read-only) in one snapshot, every write in an IMMEDIATE transaction on `db`, so two processes
 * (the gateway and `portcullis pins approve`) never lose each other's decision.
 */
export function createSqlitePins(db: Database.Database, read: Database.Database = db): PinStore {
  const r = {
    revision: read.prepare<[], { revision: number }>('SELECT revision FROM pins_revision WHERE id = 1'),
    approved: read.prepare<[], ApprovedRow>('SELECT * FROM pins_approved ORDER BY upstream, pin_key'),
    rejected: read.prepare<[], RejectedRow>(
      'SELECT * FROM pins_rejected ORDER BY upstream, pin_key, position, hash',
    ),
    observed: read.prepare<[], { upstream: string; snapshot: string }>(
      'SELECT upstream, snapshot FROM pins_observed ORDER BY upstream',
    ),
  };
  const s = {
    bump: db.prepare<[], { revision: number }>(
      'UPDATE pins_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision',
    ),
    current: db.prepare<[], { revision: number }>('SELECT revision FROM pins_revision WHERE id = 1'),
    approve: db.prepare<[string, string, string, string, string]>(
      `INSERT INTO pins_approved (upstream, pin_key, hash, approved_at, definition) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (upstream, pin_key) DO UPDATE SET hash = excluded.hash, approved_at = excluded.approved_at,
         definition = excluded.definition`,
    ),
    unreject: db.prepare<[string, string, string]>(
      'DELETE FROM pins_rejected WHERE upstream = ? AND pin_key = ? AND hash = ?',
    ),
    reject: db.prepare<[string, string, string, string, string, string]>(
      `INSERT INTO pins_rejected (upstream, pin_key, hash, rejected_at, position)
       SELECT ?, ?, ?, ?, COALESCE(MAX(position) + 1, 0) FROM pins_rejected WHERE upstream = ? AND pin_key = ?
       ON CONFLICT (upstream, pin_key, hash) DO NOTHING`,
    ),
    withdraw: db.prepare<[string, string, string]>(
      'DELETE FROM pins_approved WHERE upstream = ? AND pin_key = ? AND hash = ?',
    ),
    clearApproved: db.prepare('DELETE FROM pins_approved'),
    clearRejected: db.prepare('DELETE FROM pins_rejected'),
    addRejected: db.prepare<[string, string, string, string, number]>(
      'INSERT INTO pins_rejected (upstream, pin_key, hash, rejected_at, position) VALUES (?, ?, ?, ?, ?)',
    ),
    putObserved: db.prepare<[string, string]>(
      `INSERT INTO pins_observed (upstream, snapshot) VALUES (?, ?)
       ON CONFLICT (upstream) DO UPDATE SET snapshot = excluded.snapshot`,
    ),
    deleteObserved: db.prepare<[string]>('DELETE FROM pins_observed WHERE upstream = ?'),
  };

  const applyOne = (c: PinChange): boolean => {
    switch (c.op) {
      case 'approve':
        s.approve.run(c.upstream, c.key, c.hash, c.at.toISOString(), definitionText(c.definition));
        s.unreject.run(c.upstream, c.key, c.hash);
        return true;
      case 'reject':
        return s.reject.run(c.upstream, c.key, c.hash, c.at.toISOString(), c.upstream, c.key).changes > 0;
      case 'withdraw':
        return s.withdraw.run(c.upstream, c.key, c.hash).changes > 0;
    }
  };
  const apply = db.transaction((changes: readonly PinChange[]): number => {
    let changed = false;
    for (const c of changes) changed = applyOne(c) || changed;
    return (changed ? s.bump.get() : s.current.get())!.revision;
  });
  const replace = db.transaction((upstreams: Readonly<Record<string, UpstreamPins>>): number => {
    s.clearApproved.run();
    s.clearRejected.run();
    for (const [name, u] of Object.entries(upstreams)) {
      for (const [key, pin] of Object.entries(u.approved))
        s.approve.run(name, key, pin.hash, pin.approvedAt, definitionText(pin.definition));
      for (const [key, list] of Object.entries(u.rejected))
        list.forEach((rej, i) => s.addRejected.run(name, key, rej.hash, rej.rejectedAt, i));
    }
    return s.bump.get()!.revision;
  });
  const snapshot = read.transaction(() => ({
    revision: r.revision.get()!.revision,
    upstreams: pinsFromRows(r.approved.all(), r.rejected.all()),
  }));

  return {
    revision: async () => r.revision.get()!.revision,
    read: async () => snapshot(),
    apply: async (changes) => apply.immediate(changes),
    replace: async (upstreams) => replace.immediate(upstreams),
    observed: async () =>
      Object.fromEntries(r.observed.all().map((o) => [o.upstream, JSON.parse(o.snapshot) as unknown])),
    putObserved: async (upstream, snapshot) => {
      s.putObserved.run(upstream, definitionText(snapshot));
    },
    deleteObserved: async (upstream) => {
      s.deleteObserved.run(upstream);
    },
  };
}
