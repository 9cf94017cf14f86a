import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { authenticate, createApiKey } from '../../src/auth/index.js';
import { openSqliteOAuthDatabase } from '../../src/oauth/index.js';
import { compilePolicy, createTaintTracker, policyConfigSchema } from '../../src/policy/index.js';
import {
  createPgTestSchema,
  openPostgresStorage,
  openSqliteStorage,
  type PgTestSchema,
  type Storage,
} from '../../src/storage/index.js';
import { createPersonCeilings, ensurePerson } from '../../src/users/index.js';
import { runCli } from '../helpers/cli.js';
import { postMcp, readRpc, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';

/**
 * Attack: ride the gateway's in-memory copy of a credential after it changed in the database.
 * Per-call reads (the API key, the owner's role, the person's taint) are served from memory
 * while their table's revision counter stands still (storage/sqlite/revision-cache.ts). The
 * attacker's hope is a change the cache does not hear of: one made by another process on the
 * same file (the CLI), by another store handle (another gateway on the file), or by plain SQL
 * that bypasses the stores. Each must still apply to the very next call.
 */

const search = (url: string, key: string) =>
  postMcp(
    url,
    {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'memory_search', arguments: { query: 'anything' } },
    },
    { key },
  );

/** Calls twice (the second is served from the cache) and checks both were answered. */
async function warm(url: string, key: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const res = await search(url, key);
    assert.equal(res.status, 200);
    const rpc = await readRpc(res);
    assert.ok(rpc.result && !rpc.result.isError, JSON.stringify(rpc));
  }
}

describe('attack: a change made elsewhere while the gateway holds the old value in memory', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ config: 'policy:\n  roles:\n    reader: [memory:read]\n' });
  });
  after(() => t.close());
  const cli = async (...args: string[]) => {
    const r = await runCli([...args, '--data-dir', t.dataDir]);
    assert.equal(r.code, 0, r.stderr);
  };

  it('a key revoked by the CLI (another process) is refused on its next call; another key still works', async () => {
    const victim = await t.key();
    const bystander = await t.key();
    await warm(t.url, victim.key);
    await warm(t.url, bystander.key);
    await cli('keys', 'revoke', victim.id);
    assert.equal((await search(t.url, victim.key)).status, 401);
    await warm(t.url, bystander.key);
  });

  it('a person disabled by the CLI loses every scope on the next call of their key', async () => {
    await cli('users', 'add', 'dora', '--role', 'admin');
    const key = await t.key({ owner: 'dora', scopes: ['memory:read'] });
    await warm(t.url, key.key);
    await cli('users', 'disable', 'dora');
    assert.equal((await search(t.url, key.key)).status, 403);
  });

  it('a role lowered by the CLI caps the next call; what the lower role allows still works', async () => {
    await cli('users', 'add', 'rolf', '--role', 'admin');
    const key = await t.key({ owner: 'rolf', scopes: ['memory:read', 'memory:write'] });
    const save = () =>
      postMcp(
        t.url,
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'memory_save', arguments: { title: 't', content: 'c' } },
        },
        { key: key.key },
      );
    assert.equal((await save()).status, 200);
    assert.equal((await save()).status, 200);
    await cli('users', 'set-role', 'rolf', 'reader');
    assert.equal((await save()).status, 403);
    await warm(t.url, key.key); // memory:read is inside `reader`
  });
});

describe('attack: a second store handle on the same file (another gateway, hand-typed SQL)', () => {
  let dir: string;
  let file: string;
  let mine: Storage;
  let theirs: Storage;
  let oauthDb: ReturnType<typeof openSqliteOAuthDatabase>;
  let other: ReturnType<typeof openSqliteOAuthDatabase>;
  before(async () => {
    dir = tempDir();
    file = path.join(dir, 'portcullis.db');
    mine = openSqliteStorage(file);
    theirs = openSqliteStorage(file);
    oauthDb = openSqliteOAuthDatabase(file);
    other = openSqliteOAuthDatabase(file);
  });
  after(async () => {
    for (const s of [mine, theirs, oauthDb, other]) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const roles = compilePolicy(policyConfigSchema.parse({ roles: { reader: ['memory:read'] } })).roles;
  const call = (key: string, people = createPersonCeilings(oauthDb.users, roles)) =>
    authenticate(
      { authorization: `Bearer ${key}`, url: new URL('http://127.0.0.1/mcp') },
      { apiKeys: mine.apiKeys, people, now: new Date() },
    );

  it('a key revoked by plain SQL on another connection is refused on the next call', async () => {
    const { record, key } = await createApiKey(
      mine.apiKeys,
      { owner: 'sam', label: 'x', scopes: ['memory:read'], expiresAt: null },
      new Date(),
    );
    assert.equal((await call(key)).ok, true);
    assert.equal((await call(key)).ok, true);
    const raw = new Database(file);
    raw.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(Date.now(), record.id);
    raw.close();
    assert.deepEqual(await call(key), { ok: false, reason: 'credential-revoked', credentialId: record.id });
  });

  it('a key revoked through another gateway’s store is refused on the next call', async () => {
    const { record, key } = await createApiKey(
      mine.apiKeys,
      { owner: 'sam', label: 'y', scopes: ['memory:read'], expiresAt: null },
      new Date(),
    );
    assert.equal((await call(key)).ok, true);
    assert.equal(await theirs.apiKeys.revoke(record.id, new Date()), true);
    assert.equal((await call(key)).ok, false);
  });

  it('a role lowered through another gateway’s store caps the next call', async () => {
    await ensurePerson(oauthDb.users, { name: 'lena', role: 'admin' }, new Date());
    const { key } = await createApiKey(
      mine.apiKeys,
      { owner: 'lena', label: 'z', scopes: ['memory:read', 'memory:write'], expiresAt: null },
      new Date(),
    );
    const people = createPersonCeilings(oauthDb.users, roles);
    const scopes = async () => {
      const r = await call(key, people);
      assert.ok(r.ok);
      return [...r.principal.scopes].sort();
    };
    assert.deepEqual(await scopes(), ['memory:read', 'memory:write']);
    assert.deepEqual(await scopes(), ['memory:read', 'memory:write']);
    assert.equal(await other.users.setRole('lena', 'reader'), true);
    assert.deepEqual(await scopes(), ['memory:read']);
    assert.equal(await other.users.disable('lena', new Date()), true);
    assert.deepEqual(await scopes(), []);
  });

  it('a label recorded by another replica is seen by the person’s next call here', async () => {
    const here = createTaintTracker(mine.taint, { windowMs: 60_000 });
    const there = createTaintTracker(theirs.taint, { windowMs: 60_000 });
    const person = { tenant: 'default', subject: 'tess' };
    const now = Date.now();
    assert.deepEqual([...(await here.seen(person, now))], []);
    assert.deepEqual([...(await here.seen(person, now))], []);
    await there.record(person, ['untrusted-source'], now);
    assert.deepEqual([...(await here.seen(person, now + 1))], ['untrusted-source']);
    // Cached labels still expire on time: the window is checked against each call's clock.
    assert.deepEqual([...(await here.seen(person, now + 61_000))], []);
  });
});

describe('attack: taint recorded by another replica on PostgreSQL', () => {
  let pg: PgTestSchema;
  before(async () => {
    pg = await createPgTestSchema();
  });
  after(() => pg.drop());

  it('a label one replica records is seen by the person’s next call at the other', async () => {
    const a = await openPostgresStorage(pg.config);
    const b = await openPostgresStorage(pg.config);
    try {
      const here = createTaintTracker(a.taint, { windowMs: 60_000 });
      const there = createTaintTracker(b.taint, { windowMs: 60_000 });
      const person = { tenant: 'default', subject: 'pia' };
      const now = Date.now();
      assert.deepEqual([...(await here.seen(person, now))], []);
      await there.record(person, ['private-data'], now);
      assert.deepEqual([...(await here.seen(person, now + 1))], ['private-data']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
