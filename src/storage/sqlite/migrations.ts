import type { SqliteSchema } from '../../migrate/index.js';

/**
 * The core tables, as ordered, append-only migrations (run by src/migrate as component `core`;
 * files from before it counted them in `PRAGMA user_version`). Never edit a released migration:
 * add a new one. docs/storage.md describes the resulting tables.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    owner TEXT NOT NULL,
    tenant TEXT NOT NULL,
    label TEXT NOT NULL,
    scopes TEXT NOT NULL,            -- JSON array of strings
    created_at INTEGER NOT NULL,     -- ms since epoch
    expires_at INTEGER,
    last_used_at INTEGER,
    revoked_at INTEGER
  ) STRICT;

  CREATE TABLE notes (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    tags TEXT NOT NULL,              -- JSON array of strings
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX notes_by_owner ON notes (tenant, owner, created_at);

  -- External-content FTS5 index over notes; kept in step by triggers.
  CREATE VIRTUAL TABLE notes_fts USING fts5 (
    title, content, tags, content = 'notes', content_rowid = 'rowid', tokenize = 'unicode61'
  );
  CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts (rowid, title, content, tags) VALUES (new.rowid, new.title, new.content, new.tags);
  END;
  CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN
    INSERT INTO notes_fts (notes_fts, rowid, title, content, tags)
      VALUES ('delete', old.rowid, old.title, old.content, old.tags);
  END;
  `,
  `
  CREATE TABLE quarantine (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    principal TEXT NOT NULL,
    tool TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'released', 'discarded')),
    decided_at INTEGER,
    result TEXT,                     -- JSON; NULL once discarded
    findings TEXT NOT NULL           -- JSON
  ) STRICT;
  CREATE INDEX quarantine_by_status ON quarantine (status, created_at);
  `,
  `
  CREATE TABLE confirmation_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL        -- ms since epoch; purged after
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    binding TEXT NOT NULL,
    subject TEXT NOT NULL,
    tenant TEXT NOT NULL,
    client_id TEXT,
    tool TEXT NOT NULL,
    upstream TEXT,
    args_hash TEXT NOT NULL,
    args TEXT,                         -- redacted JSON; NULL once decided
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    decided_at INTEGER
  ) STRICT;
  CREATE INDEX approvals_by_call ON approvals (binding, tool, args_hash, created_at);
  `,
  `
  CREATE TABLE taint (
    person TEXT NOT NULL,              -- JSON [tenant, subject]
    label TEXT NOT NULL,
    expires_at INTEGER NOT NULL,       -- ms since epoch; purged after
    PRIMARY KEY (person, label)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX taint_by_expiry ON taint (expires_at);
  `,
  `
  -- The effect journal: which tool call (correlation id) made a write, in the write's own
  -- transaction; read by the start-up recovery of interrupted calls.
  CREATE TABLE tool_effects (
    correlation_id TEXT PRIMARY KEY,
    at INTEGER NOT NULL                -- ms since epoch; dropped after EFFECT_JOURNAL_RETENTION_MS
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX tool_effects_by_age ON tool_effects (at);
  `,
  `
  -- People's own upstream credentials (issue 13). \`sealed\` is AES-256-GCM under the vault's
  -- data key, bound to tenant + subject + upstream + id; never plaintext.
  CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    subject TEXT NOT NULL,
    upstream TEXT NOT NULL,
    mode TEXT NOT NULL,
    state TEXT NOT NULL,
    upstream_subject TEXT,
    scopes TEXT NOT NULL,              -- JSON array of strings
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at INTEGER,
    broken_reason TEXT,
    sealed TEXT NOT NULL
  ) STRICT;
  CREATE UNIQUE INDEX connections_by_person ON connections (tenant, subject, upstream);
  CREATE INDEX connections_by_upstream ON connections (upstream);
  -- The vault's data key, wrapped under each key-encryption key that may open it.
  CREATE TABLE vault_data_keys (
    data_key_id TEXT NOT NULL,
    kek_id TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (data_key_id, kek_id)
  ) STRICT, WITHOUT ROWID;
  `,
  `
  -- Pins and observed definitions (issue 16), once portcullis.lock.json and
  -- upstreams-observed.json in the data dir. Text, not JSON types: a definition must come back
  -- byte for byte as approved (its hash is over it), and an export must diff cleanly.
  CREATE TABLE pins_approved (
    upstream TEXT NOT NULL,
    pin_key TEXT NOT NULL,
    hash TEXT NOT NULL,
    approved_at TEXT NOT NULL,         -- ISO time as written
    definition TEXT NOT NULL,          -- JSON
    PRIMARY KEY (upstream, pin_key)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE pins_rejected (
    upstream TEXT NOT NULL,
    pin_key TEXT NOT NULL,
    hash TEXT NOT NULL,
    rejected_at TEXT NOT NULL,
    position INTEGER NOT NULL,             -- order within the key's list, oldest first
    PRIMARY KEY (upstream, pin_key, hash)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE pins_observed (
    upstream TEXT PRIMARY KEY,
    snapshot TEXT NOT NULL             -- JSON of one ObservedUpstream
  ) STRICT;
  -- One row: moved by every pin write in its transaction; replicas poll it. Updating it first
  -- also serialises pin writers (the row lock).
  CREATE TABLE pins_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
  ) STRICT;
  INSERT INTO pins_revision (id, revision) VALUES (1, 0);
  `,
  `
  -- Issue 17: per-call reads (an API key by id, a person's taint) are cached in memory while
  -- their table's counter stands still (sqlite/revision-cache.ts). Triggers move the counter in
  -- the same transaction as every insert, update and delete, whichever connection makes it (the
  -- CLI, another gateway on this file), so a revocation still stops the next call. Each change
  -- draws a random tag (not n + 1), so restoring an older backup never brings back a value a
  -- running gateway holds over other rows.
  CREATE TABLE api_keys_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
  ) STRICT;
  INSERT INTO api_keys_revision (id, n) VALUES (1, random() >> 11);
  CREATE TRIGGER api_keys_revision_on_insert AFTER INSERT ON api_keys
    BEGIN UPDATE api_keys_revision SET n = random() >> 11; END;
  -- Every column but last_used_at (written once a minute per key in use; moving the counter for
  -- it would empty the cache that often). A column added later must be added here.
  CREATE TRIGGER api_keys_revision_on_update
    AFTER UPDATE OF id, hash, owner, tenant, label, scopes, created_at, expires_at, revoked_at ON api_keys
    BEGIN UPDATE api_keys_revision SET n = random() >> 11; END;
  CREATE TRIGGER api_keys_revision_on_delete AFTER DELETE ON api_keys
    BEGIN UPDATE api_keys_revision SET n = random() >> 11; END;
  CREATE TABLE taint_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
  ) STRICT;
  INSERT INTO taint_revision (id, n) VALUES (1, random() >> 11);
  CREATE TRIGGER taint_revision_on_insert AFTER INSERT ON taint
    BEGIN UPDATE taint_revision SET n = random() >> 11; END;
  CREATE TRIGGER taint_revision_on_update AFTER UPDATE ON taint
    BEGIN UPDATE taint_revision SET n = random() >> 11; END;
  CREATE TRIGGER taint_revision_on_delete AFTER DELETE ON taint
    BEGIN UPDATE taint_revision SET n = random() >> 11; END;
  `,
];

export const CORE_SCHEMA: SqliteSchema = {
  component: 'core',
  migrations: MIGRATIONS,
  legacy: 'user-version',
};
