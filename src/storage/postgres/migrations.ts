import type { PgSchema } from '../../migrate/index.js';

/**
 * The core tables in PostgreSQL, as ordered, append-only migrations (component `core`, like
 * SQLite's). Times are milliseconds since the epoch in BIGINT, as in SQLite, so both backends map
 * rows the same way. docs/storage.md describes them.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    owner TEXT NOT NULL,
    tenant TEXT NOT NULL,
    label TEXT NOT NULL,
    scopes JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
  );
  CREATE TABLE notes (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    tags JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    -- The 'simple' configuration lower-cases and never stems, like SQLite's unicode61.
    search TSVECTOR GENERATED ALWAYS AS (
      to_tsvector('simple', title || ' ' || content || ' ' || tags::text)
    ) STORED
  );
  CREATE INDEX notes_by_owner ON notes (tenant, owner, created_at);
  CREATE INDEX notes_search ON notes USING GIN (search);
  CREATE TABLE quarantine (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    principal TEXT NOT NULL,
    tool TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'released', 'discarded')),
    decided_at BIGINT,
    result TEXT,
    findings TEXT NOT NULL
  );
  CREATE INDEX quarantine_by_status ON quarantine (status, created_at);
  CREATE TABLE confirmation_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
  );
  CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    binding TEXT NOT NULL,
    subject TEXT NOT NULL,
    tenant TEXT NOT NULL,
    client_id TEXT,
    tool TEXT NOT NULL,
    upstream TEXT,
    args_hash TEXT NOT NULL,
    args TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    decided_at BIGINT
  );
  CREATE INDEX approvals_by_call ON approvals (binding, tool, args_hash, created_at);
  CREATE TABLE taint (
    person TEXT NOT NULL,
    label TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (person, label)
  );
  CREATE INDEX taint_by_expiry ON taint (expires_at);
  CREATE TABLE tool_effects (
    correlation_id TEXT PRIMARY KEY,
    at BIGINT NOT NULL
  );
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
    mode TEXT NOT NULL CHECK (mode IN ('person-oauth', 'person-secret', 'token-exchange')),
    state TEXT NOT NULL CHECK (state IN ('connected', 'expired', 'broken')),
    upstream_subject TEXT,
    scopes JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at BIGINT,
    broken_reason TEXT,
    sealed TEXT NOT NULL
  );
  CREATE UNIQUE INDEX connections_by_person ON connections (tenant, subject, upstream);
  CREATE INDEX connections_by_upstream ON connections (upstream);
  CREATE INDEX connections_by_subject ON connections (subject);
  -- The vault's data key, wrapped under each key-encryption key that may open it.
  CREATE TABLE vault_data_keys (
    data_key_id TEXT NOT NULL,
    kek_id TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (data_key_id, kek_id)
  );
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
  );
  CREATE TABLE pins_rejected (
    upstream TEXT NOT NULL,
    pin_key TEXT NOT NULL,
    hash TEXT NOT NULL,
    rejected_at TEXT NOT NULL,
    position BIGINT NOT NULL,             -- order within the key's list, oldest first
    PRIMARY KEY (upstream, pin_key, hash)
  );
  CREATE TABLE pins_observed (
    upstream TEXT PRIMARY KEY,
    snapshot TEXT NOT NULL             -- JSON of one ObservedUpstream
  );
  -- One row: moved by every pin write in its transaction; replicas poll it. Updating it first
  -- also serialises pin writers (the row lock).
  CREATE TABLE pins_revision (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
  );
  INSERT INTO pins_revision (id, revision) VALUES (1, 0);
  `,
];

export const CORE_PG_SCHEMA: PgSchema = { component: 'core', migrations: MIGRATIONS };
