import type {
  ApprovalStatus,
  ConfirmationStore,
  EffectJournal,
  EffectMark,
  PendingApproval,
  ApiKeyRecord,
  ApiKeyStore,
  Note,
  NoteOwner,
  NoteSearchHit,
  NoteStore,
  QuarantineItem,
  QuarantineStatus,
  QuarantineStore,
  Storage,
  TaintStore,
} from '../contracts.js';
import { EFFECT_JOURNAL_RETENTION_MS, makeSnippet, queryTerms } from '../contracts.js';
import { migrate } from '../../migrate/index.js';
import { CORE_SCHEMA } from './migrations.js';
import { openSqliteDatabase, openSqliteReadConnection } from './open-database.js';
import { createRevisionCache } from './revision-cache.js';
import { createSqliteConnections } from './sqlite-connections.js';
import { createSqlitePins } from './sqlite-pins.js';

interface ApiKeyRow {
  id: string;
  hash: string;
  owner: string;
  tenant: string;
  label: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

interface QuarantineRow {
  id: string;
  tenant: string;
  principal: string;
  tool: string;
  correlation_id: string;
  created_at: number;
  status: QuarantineStatus;
  decided_at: number | null;
  result: string | null;
  findings: string;
}

const rowToQuarantine = (r: QuarantineRow): QuarantineItem => ({
  id: r.id,
  tenant: r.tenant,
  principal: r.principal,
  tool: r.tool,
  correlationId: r.correlation_id,
  createdAt: new Date(r.created_at),
  status: r.status,
  decidedAt: r.decided_at === null ? null : new Date(r.decided_at),
  result: r.result,
  findings: r.findings,
});

interface ApprovalRow {
  id: string;
  binding: string;
  subject: string;
  tenant: string;
  client_id: string | null;
  tool: string;
  upstream: string | null;
  args_hash: string;
  args: string | null;
  created_at: number;
  expires_at: number;
  status: ApprovalStatus;
  decided_at: number | null;
}

const rowToApproval = (r: ApprovalRow): PendingApproval => ({
  id: r.id,
  binding: r.binding,
  subject: r.subject,
  tenant: r.tenant,
  clientId: r.client_id,
  tool: r.tool,
  upstream: r.upstream,
  argsHash: r.args_hash,
  args: r.args,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
  status: r.status,
  decidedAt: r.decided_at === null ? null : new Date(r.decided_at),
});

const toDate = (ms: number | null) => (ms === null ? null : new Date(ms));

function rowToApiKey(r: ApiKeyRow): ApiKeyRecord {
  return {
    id: r.id,
    hash: r.hash,
    owner: r.owner,
    tenant: r.tenant,
    label: r.label,
    scopes: JSON.parse(r.scopes) as string[],
    createdAt: new Date(r.created_at),
    expiresAt: toDate(r.expires_at),
    lastUsedAt: toDate(r.last_used_at),
    revokedAt: toDate(r.revoked_at),
  };
}

/**
 * FTS5 MATCH expression for plain-text input: every term becomes a quoted string (inner quotes
 * doubled), so operators, column filters and NEAR in the input are matched as text, never
 * interpreted as query syntax.
 */
function toFtsQuery(terms: readonly string[]): string {
  return terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' ');
}

/** Opens (creating if needed) the SQLite database, in WAL mode, migrated to the latest schema. */
export function openSqliteStorage(file: string): Storage {
  const db = openSqliteDatabase(file, (conn) => migrate(conn, CORE_SCHEMA));
  // Every read goes through a connection opened read-only: a bug that writes through it fails
  // at the database (SQLITE_READONLY) instead of changing state.
  const rdb = openSqliteReadConnection(file);

  const stmt = {
    insertKey: db.prepare(
      `INSERT INTO api_keys (id, hash, owner, tenant, label, scopes, created_at, expires_at, last_used_at, revoked_at)
       VALUES (@id, @hash, @owner, @tenant, @label, @scopes, @created_at, @expires_at, @last_used_at, @revoked_at)`,
    ),
    keyById: rdb.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?'),
    listKeys: rdb.prepare<[], ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id'),
    revokeKey: db.prepare<[number, string]>(
      'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?',
    ),
    touchKey: db.prepare<[number, string]>('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
    journalEffect: db.prepare<[string, number]>(
      'INSERT OR IGNORE INTO tool_effects (correlation_id, at) VALUES (?, ?)',
    ),
    forgetEffects: db.prepare<[number]>('DELETE FROM tool_effects WHERE at < ?'),
    effectById: rdb.prepare<[string], { n: number }>(
      'SELECT 1 AS n FROM tool_effects WHERE correlation_id = ?',
    ),
    insertNote: db.prepare(
      `INSERT INTO notes (id, tenant, owner, title, content, tags, created_at)
       VALUES (@id, @tenant, @owner, @title, @content, @tags, @created_at)`,
    ),
    getNote: rdb.prepare<
      [string, string, string],
      { id: string; title: string; content: string; tags: string; created_at: number }
    >('SELECT id, title, content, tags, created_at FROM notes WHERE id = ? AND tenant = ? AND owner = ?'),
    deleteNote: db.prepare<[string, string, string]>(
      'DELETE FROM notes WHERE id = ? AND tenant = ? AND owner = ?',
    ),
    searchNotes: rdb.prepare<
      [string, string, string, number],
      { id: string; title: string; content: string }
    >(
      `SELECT n.id, n.title, n.content FROM notes_fts
         JOIN notes n ON n.rowid = notes_fts.rowid
        WHERE notes_fts MATCH ? AND n.tenant = ? AND n.owner = ?
        ORDER BY bm25(notes_fts) LIMIT ?`,
    ),
  };

  const q = {
    insert: db.prepare(
      `INSERT INTO quarantine (id, tenant, principal, tool, correlation_id, created_at, status, decided_at, result, findings)
       VALUES (@id, @tenant, @principal, @tool, @correlation_id, @created_at, @status, @decided_at, @result, @findings)`,
    ),
    get: rdb.prepare<[string], QuarantineRow>('SELECT * FROM quarantine WHERE id = ?'),
    listAll: rdb.prepare<[number], QuarantineRow>(
      'SELECT * FROM quarantine ORDER BY created_at DESC, id LIMIT ?',
    ),
    listByStatus: rdb.prepare<[string, number], QuarantineRow>(
      'SELECT * FROM quarantine WHERE status = ? ORDER BY created_at DESC, id LIMIT ?',
    ),
    release: db.prepare<[number, string]>(
      "UPDATE quarantine SET status = 'released', decided_at = ? WHERE id = ? AND status = 'pending'",
    ),
    discard: db.prepare<[number, string]>(
      "UPDATE quarantine SET status = 'discarded', decided_at = ?, result = NULL WHERE id = ? AND status = 'pending'",
    ),
  };
  const quarantine: QuarantineStore = {
    insert: async (i) => {
      q.insert.run({
        id: i.id,
        tenant: i.tenant,
        principal: i.principal,
        tool: i.tool,
        correlation_id: i.correlationId,
        created_at: i.createdAt.getTime(),
        status: i.status,
        decided_at: i.decidedAt?.getTime() ?? null,
        result: i.result,
        findings: i.findings,
      });
    },
    get: async (id) => {
      const r = q.get.get(id);
      return r && rowToQuarantine(r);
    },
    list: async ({ status, limit }) =>
      (status ? q.listByStatus.all(status, limit) : q.listAll.all(limit)).map(rowToQuarantine),
    decide: async (id, status, at) =>
      (status === 'released' ? q.release : q.discard).run(at.getTime(), id).changes > 0,
  };

  const c = {
    useNonce: db.prepare<[string, number]>(
      'INSERT INTO confirmation_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING',
    ),
    insert: db.prepare(
      `INSERT INTO approvals (id, binding, subject, tenant, client_id, tool, upstream, args_hash, args, created_at, expires_at, status, decided_at)
       VALUES (@id, @binding, @subject, @tenant, @client_id, @tool, @upstream, @args_hash, @args, @created_at, @expires_at, @status, @decided_at)`,
    ),
    get: rdb.prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE id = ?'),
    listPending: rdb.prepare<[number, number], ApprovalRow>(
      "SELECT * FROM approvals WHERE status = 'pending' AND expires_at > ? ORDER BY created_at DESC, id DESC LIMIT ?",
    ),
    listAll: rdb.prepare<[number], ApprovalRow>(
      'SELECT * FROM approvals ORDER BY created_at DESC, id DESC LIMIT ?',
    ),
    find: rdb.prepare<[string, string, string], ApprovalRow>(
      `SELECT * FROM approvals WHERE binding = ? AND tool = ? AND args_hash = ? AND status != 'used'
        ORDER BY created_at DESC, id DESC LIMIT 1`,
    ),
    decide: db.prepare<[string, number, string, number]>(
      `UPDATE approvals SET status = ?, decided_at = ?, args = NULL
        WHERE id = ? AND status = 'pending' AND expires_at > ?`,
    ),
    use: db.prepare<[string]>(
      "UPDATE approvals SET status = 'used', args = NULL WHERE id = ? AND status IN ('approved', 'denied')",
    ),
    purgeNonces: db.prepare<[number]>('DELETE FROM confirmation_nonces WHERE expires_at <= ?'),
    purgeApprovals: db.prepare<[number]>('DELETE FROM approvals WHERE expires_at <= ?'),
  };
  const confirmations: ConfirmationStore = {
    useNonce: async (nonce, expiresAt) => c.useNonce.run(nonce, expiresAt.getTime()).changes > 0,
    insertApproval: async (a) => {
      c.insert.run({
        id: a.id,
        binding: a.binding,
        subject: a.subject,
        tenant: a.tenant,
        client_id: a.clientId,
        tool: a.tool,
        upstream: a.upstream,
        args_hash: a.argsHash,
        args: a.args,
        created_at: a.createdAt.getTime(),
        expires_at: a.expiresAt.getTime(),
        status: a.status,
        decided_at: a.decidedAt?.getTime() ?? null,
      });
    },
    getApproval: async (id) => {
      const r = c.get.get(id);
      return r && rowToApproval(r);
    },
    listApprovals: async ({ pending, now, limit }) =>
      (pending ? c.listPending.all(now.getTime(), limit) : c.listAll.all(limit)).map(rowToApproval),
    findApproval: async (binding, tool, argsHash) => {
      const r = c.find.get(binding, tool, argsHash);
      return r && rowToApproval(r);
    },
    decideApproval: async (id, status, at) =>
      c.decide.run(status, at.getTime(), id, at.getTime()).changes > 0,
    useApproval: async (id) => c.use.run(id).changes > 0,
    purge: async (now) => {
      c.purgeNonces.run(now.getTime());
      c.purgeApprovals.run(now.getTime() - 86_400_000);
    },
  };

  const tq = {
    // Every entry of the person, expired or not: the cache filters by each call's `now`.
    entries: rdb.prepare<[string], { label: string; expires_at: number }>(
      'SELECT label, expires_at FROM taint WHERE person = ? ORDER BY label',
    ),
    record: db.prepare<[string, string, number]>(
      `INSERT INTO taint (person, label, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (person, label) DO UPDATE SET expires_at = excluded.expires_at
         WHERE excluded.expires_at > taint.expires_at`,
    ),
    purge: db.prepare<[number]>('DELETE FROM taint WHERE expires_at <= ?'),
  };
  const recordTaint = db.transaction((person: string, labels: readonly string[], expiresAt: number) => {
    for (const label of labels) tq.record.run(person, label, expiresAt);
  });
  const taintEntries = createRevisionCache<{ label: string; expires_at: number }[]>(rdb, 'taint_revision');
  const taint: TaintStore = {
    live: async (person, now) => {
      const at = now.getTime();
      const entries = taintEntries.get(person, () => tq.entries.all(person));
      return entries.filter((e) => e.expires_at > at).map((e) => e.label);
    },
    record: async (person, labels, expiresAt) => {
      recordTaint(person, labels, expiresAt.getTime());
    },
    purge: async (now) => {
      tq.purge.run(now.getTime());
    },
  };

  // Read on every call (authenticate); see revision-cache.ts for why a revocation by anyone still
  // stops the next one. Unknown ids are cached too: any insert moves the counter. The one column
  // the counter does not follow, last_used_at, may lag here behind another process's touch; it
  // is a once-a-minute marker, not part of any check.
  const keysById = createRevisionCache<ApiKeyRecord | undefined>(rdb, 'api_keys_revision');
  const apiKeys: ApiKeyStore = {
    insert: async (r) => {
      stmt.insertKey.run({
        id: r.id,
        hash: r.hash,
        owner: r.owner,
        tenant: r.tenant,
        label: r.label,
        scopes: JSON.stringify(r.scopes),
        created_at: r.createdAt.getTime(),
        expires_at: r.expiresAt?.getTime() ?? null,
        last_used_at: r.lastUsedAt?.getTime() ?? null,
        revoked_at: r.revokedAt?.getTime() ?? null,
      });
    },
    findById: async (id) =>
      keysById.get(id, () => {
        const row = stmt.keyById.get(id);
        return row && rowToApiKey(row);
      }),
    list: async () => stmt.listKeys.all().map(rowToApiKey),
    revoke: async (id, at) => stmt.revokeKey.run(at.getTime(), id).changes > 0,
    touchLastUsed: async (id, at) => {
      stmt.touchKey.run(at.getTime(), id);
      // The counter does not follow last_used_at (see the migration): keep this copy current.
      keysById.patch(id, (r) => r && { ...r, lastUsedAt: at });
    },
  };

  /** Journals the effect in the current transaction, dropping entries past their retention. */
  const journal = (effect: EffectMark | undefined) => {
    if (!effect) return;
    stmt.forgetEffects.run(effect.at.getTime() - EFFECT_JOURNAL_RETENTION_MS);
    stmt.journalEffect.run(effect.correlationId, effect.at.getTime());
  };
  const saveNote = db.transaction((o: NoteOwner, n: Note, effect: EffectMark | undefined) => {
    stmt.insertNote.run({
      id: n.id,
      tenant: o.tenant,
      owner: o.owner,
      title: n.title,
      content: n.content,
      tags: JSON.stringify(n.tags),
      created_at: n.createdAt.getTime(),
    });
    journal(effect);
  });
  const deleteNote = db.transaction((o: NoteOwner, id: string, effect: EffectMark | undefined) => {
    const deleted = stmt.deleteNote.run(id, o.tenant, o.owner).changes > 0;
    if (deleted) journal(effect);
    return deleted;
  });
  const effects: EffectJournal = {
    committed: async (correlationId) => stmt.effectById.get(correlationId) !== undefined,
  };

  const notes: NoteStore = {
    save: async (o: NoteOwner, n: Note, effect?: EffectMark) => {
      saveNote.immediate(o, n, effect);
    },
    search: async (o, query, limit): Promise<NoteSearchHit[]> => {
      const terms = queryTerms(query);
      if (terms.length === 0) return [];
      return stmt.searchNotes
        .all(toFtsQuery(terms), o.tenant, o.owner, limit)
        .map((r) => ({ id: r.id, title: r.title, snippet: makeSnippet(r.content, terms) }));
    },
    get: async (o, id) => {
      const r = stmt.getNote.get(id, o.tenant, o.owner);
      return (
        r && {
          id: r.id,
          title: r.title,
          content: r.content,
          tags: JSON.parse(r.tags) as string[],
          createdAt: new Date(r.created_at),
        }
      );
    },
    delete: async (o, id, effect) => deleteNote.immediate(o, id, effect),
  };

  return {
    apiKeys,
    notes,
    effects,
    quarantine,
    confirmations,
    taint,
    connections: createSqliteConnections(db, rdb),
    pins: createSqlitePins(db, rdb),
    ping: async () => {
      db.prepare('SELECT 1').get();
    },
    close: async () => {
      rdb.close();
      db.close();
    },
  };
}
