import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { USER_MIGRATIONS } from '../../users/index.js';
import { createPgTestSchema, type PgTestSchema } from '../../storage/index.js';
import {
  openMemoryOAuthDatabase,
  openPostgresOAuthDatabase,
  openSqliteOAuthDatabase,
  type OAuthDatabase,
} from './index.js';
import { OAUTH_MIGRATIONS } from './sqlite-store.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const schemas: PgTestSchema[] = [];
after(async () => {
  for (const s of schemas) await s.drop();
});

const backends: [string, () => OAuthDatabase | Promise<OAuthDatabase>][] = [
  ['memory', openMemoryOAuthDatabase],
  [
    'sqlite',
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-oauth-'));
      dirs.push(dir);
      return openSqliteOAuthDatabase(path.join(dir, 'test.db'));
    },
  ],
  [
    'postgres',
    async () => {
      const t = await createPgTestSchema();
      schemas.push(t);
      return openPostgresOAuthDatabase(t.config);
    },
  ],
];

const at = (s: number) => new Date(s * 1000);
const grant = (accountId: string, clientId: string, iat: number) => ({
  kind: 'Grant',
  accountId,
  clientId,
  iat,
  resources: { 'https://gw.example/mcp': 'memory:read memory:write' },
});

for (const [name, open] of backends) {
  describe(`OAuth store contract: ${name}`, () => {
    it('keeps models apart, honours expiry, and looks up by uid and user code', async () => {
      const db = await open();
      const { oauth } = db;
      await oauth.upsert('Session', 's1', { uid: 'u1', accountId: 'alice' }, at(100));
      await oauth.upsert('Interaction', 's1', { uid: 'u9' }, null);
      await oauth.upsert('DeviceCode', 'd1', { userCode: 'ABCD' }, null);
      assert.deepEqual(await oauth.find('Session', 's1', at(50)), { uid: 'u1', accountId: 'alice' });
      assert.equal(await oauth.find('Session', 's1', at(100)), undefined, 'expired at its expiry time');
      assert.deepEqual(await oauth.findByUid('Session', 'u1', at(50)), { uid: 'u1', accountId: 'alice' });
      assert.equal(await oauth.findByUid('Interaction', 'u1', at(50)), undefined);
      assert.deepEqual(await oauth.findByUserCode('DeviceCode', 'ABCD', at(50)), { userCode: 'ABCD' });
      await oauth.upsert('Session', 's1', { uid: 'u2' }, null);
      assert.deepEqual(await oauth.find('Session', 's1', at(500)), { uid: 'u2' }, 'upsert replaces');
      await oauth.upsert('AuthorizationCode', 'x', {}, at(100));
      assert.equal(await oauth.purgeExpired(at(100)), 1);
      assert.equal(await oauth.purgeExpired(at(100)), 0);
      await db.close();
    });

    it('marks one-time artefacts consumed, keeping the first time', async () => {
      const db = await open();
      const { oauth } = db;
      await oauth.upsert('RefreshToken', 'r1', { grantId: 'g1' }, null);
      await oauth.consume('RefreshToken', 'r1', at(10));
      await oauth.consume('RefreshToken', 'r1', at(20));
      assert.deepEqual(await oauth.find('RefreshToken', 'r1', at(30)), { grantId: 'g1', consumed: 10 });
      await db.close();
    });

    it('revokes a grant with every artefact issued under it, and moves the revocation epoch', async () => {
      const db = await open();
      const { oauth } = db;
      await oauth.upsert('Grant', 'g1', grant('alice', 'c1', 5), null);
      await oauth.upsert('RefreshToken', 'r1', { grantId: 'g1' }, null);
      await oauth.upsert('AuthorizationCode', 'a1', { grantId: 'g1' }, null);
      await oauth.upsert('RefreshToken', 'r2', { grantId: 'g2' }, null);
      const e0 = await oauth.revocationEpoch();
      await oauth.revokeByGrantId('g1');
      assert.ok((await oauth.revocationEpoch()) > e0);
      assert.equal(await oauth.find('Grant', 'g1', at(1)), undefined);
      assert.equal(await oauth.find('RefreshToken', 'r1', at(1)), undefined);
      assert.equal(await oauth.find('AuthorizationCode', 'a1', at(1)), undefined);
      assert.ok(await oauth.find('RefreshToken', 'r2', at(1)), 'other grants are untouched');
      const e1 = await oauth.revocationEpoch();
      await oauth.destroy('Grant', 'nothing-here');
      assert.equal(await oauth.revocationEpoch(), e1, 'deleting nothing revokes nothing');
      await db.close();
    });

    it('lists live grants per account and per client, newest first, with their scopes', async () => {
      const db = await open();
      const { oauth } = db;
      await oauth.upsert('Grant', 'g1', grant('alice', 'c1', 5), null);
      await oauth.upsert('Grant', 'g2', grant('alice', 'c2', 9), at(1000));
      await oauth.upsert('Grant', 'g3', grant('bob', 'c1', 7), at(6));
      const alice = await oauth.listGrants({ accountId: 'alice' }, at(10));
      assert.deepEqual(
        alice.map((g) => g.id),
        ['g2', 'g1'],
      );
      assert.deepEqual(alice[0]!.scopes, ['memory:read', 'memory:write']);
      assert.deepEqual(alice[0]!.expiresAt, at(1000));
      assert.deepEqual(
        (await oauth.listGrants({ clientId: 'c1' }, at(10))).map((g) => g.id),
        ['g1'],
        "bob's grant has expired",
      );
      await db.close();
    });

    it('revokes clients for good: registration, grants and tokens gone, the id remembered', async () => {
      const db = await open();
      const { oauth } = db;
      await oauth.upsert('Client', 'c1', { client_id: 'c1', client_name: 'One' }, null);
      await oauth.upsert('Client', 'c2', { client_id: 'c2' }, null);
      await oauth.upsert('Grant', 'g1', grant('alice', 'c1', 5), null);
      await oauth.upsert('RefreshToken', 'r1', { grantId: 'g1', clientId: 'c1' }, null);
      assert.deepEqual(
        (await oauth.listClients()).map((c) => c.client_id),
        ['c1', 'c2'],
      );
      const e0 = await oauth.revocationEpoch();
      assert.equal(await oauth.revokeClient('c1', at(1)), true);
      assert.ok((await oauth.revocationEpoch()) > e0);
      assert.equal(await oauth.isClientRevoked('c1'), true);
      assert.equal(await oauth.isClientRevoked('c2'), false);
      assert.deepEqual(
        (await oauth.listClients()).map((c) => c.client_id),
        ['c2'],
      );
      assert.deepEqual(await oauth.listGrants({}, at(1)), []);
      assert.equal(await oauth.find('RefreshToken', 'r1', at(1)), undefined);
      assert.equal(await oauth.revokeClient('https://unknown.example/app.json', at(2)), false);
      assert.equal(await oauth.isClientRevoked('https://unknown.example/app.json'), true);
      await db.close();
    });

    it('counts live registered clients apart from operator ones, and keeps a used one for good', async () => {
      const db = await open();
      const { oauth } = db;
      await oauth.upsert('Client', 'op', { client_id: 'op', portcullis_created_by: 'operator' }, null);
      await oauth.upsert('Client', 'r1', { client_id: 'r1' }, at(100));
      await oauth.upsert('Client', 'r2', { client_id: 'r2' }, at(100));
      await oauth.upsert('SeenMetadataDocument', 'https://a.example/c', { client_id: 'a' }, at(100));
      await oauth.upsert('SeenMetadataDocument', 'https://b.example/c', { client_id: 'b' }, at(100));
      assert.equal(await oauth.countRegisteredClients(at(50)), 2);
      await oauth.markClientUsed('r1');
      await oauth.markClientUsed('op');
      await oauth.markClientUsed('https://a.example/c');
      assert.equal(await oauth.countRegisteredClients(at(200)), 1, 'r2 expired unused; r1 is kept');
      assert.equal(await oauth.purgeExpired(at(200)), 2);
      assert.ok(await oauth.find('SeenMetadataDocument', 'https://a.example/c', at(10_000)));
      assert.ok(await oauth.find('Client', 'r1', at(10_000)));
      assert.equal(await oauth.find('Client', 'r2', at(10)), undefined, 'pruned');
      assert.ok(await oauth.find('Client', 'op', at(10_000)));
      await db.close();
    });

    it('stores users and account sessions; disabling keeps the first time', async () => {
      const db = await open();
      const { users } = db;
      const u = {
        name: 'alice',
        tenant: 'acme',
        passwordHash: 'scrypt$x',
        federatedIssuer: null,
        federatedSubject: null,
        role: 'member',
        createdAt: at(1),
        disabledAt: null,
        lastLoginAt: null,
      };
      await users.insert(u);
      await assert.rejects(users.insert(u));
      assert.deepEqual(await users.find('alice'), u);
      assert.equal(await users.disable('alice', at(5)), true);
      assert.equal(await users.disable('alice', at(9)), true);
      assert.deepEqual((await users.find('alice'))?.disabledAt, at(5));
      assert.equal(await users.disable('nobody', at(5)), false);
      assert.equal(await users.setRole('alice', 'admin'), true);
      assert.equal((await users.find('alice'))?.role, 'admin');
      assert.equal(await users.setRole('alice', null), true);
      assert.equal((await users.find('alice'))?.role, null);
      assert.equal(await users.setRole('nobody', 'admin'), false);
      await users.recordLogin('alice', at(7));
      assert.deepEqual(
        (await users.list()).map((x) => [x.name, x.lastLoginAt]),
        [['alice', at(7)]],
      );
      await users.createSession({ idHash: 'h1', userName: 'alice', createdAt: at(1), expiresAt: at(100) });
      await users.createSession({ idHash: 'h2', userName: 'alice', createdAt: at(1), expiresAt: at(100) });
      assert.equal((await users.findSession('h1', at(50)))?.userName, 'alice');
      assert.equal(await users.findSession('h1', at(100)), undefined);
      await users.deleteSession('h1');
      assert.equal(await users.findSession('h1', at(50)), undefined);
      await users.deleteSessionsOf('alice');
      assert.equal(await users.findSession('h2', at(50)), undefined);
      await db.close();
    });

    it('setup links work once, until they expire, and a new link replaces the old one', async () => {
      const db = await open();
      const { users } = db;
      await users.insert({
        name: 'admin',
        tenant: 'admin',
        passwordHash: null,
        federatedIssuer: null,
        federatedSubject: null,
        role: 'admin',
        createdAt: at(1),
        disabledAt: null,
        lastLoginAt: null,
      });
      await users.createSetupLink({
        tokenHash: 'l1',
        userName: 'admin',
        createdAt: at(1),
        expiresAt: at(10),
      });
      assert.equal((await users.findSetupLink('l1', at(5)))?.userName, 'admin');
      assert.equal(await users.findSetupLink('l1', at(10)), undefined, 'expired');
      assert.equal(await users.useSetupLink('l1', at(10)), undefined, 'expired links cannot be used');
      await users.createSetupLink({
        tokenHash: 'l2',
        userName: 'admin',
        createdAt: at(2),
        expiresAt: at(20),
      });
      assert.equal(await users.findSetupLink('l1', at(5)), undefined, 'the new link replaced the old');
      const uses = await Promise.all([users.useSetupLink('l2', at(5)), users.useSetupLink('l2', at(5))]);
      assert.deepEqual(uses.filter(Boolean), ['admin'], 'exactly one use wins');
      assert.equal(await users.findSetupLink('l2', at(6)), undefined);
      assert.equal(await users.setPassword('admin', 'scrypt$y'), true);
      assert.equal((await users.find('admin'))?.passwordHash, 'scrypt$y');
      assert.equal(await users.setPassword('nobody', 'scrypt$y'), false);
      await db.close();
    });

    it('deleting a user removes them with their sessions and setup links, and nobody else', async () => {
      const db = await open();
      const { users } = db;
      const person = (name: string) => ({
        name,
        tenant: name,
        passwordHash: null,
        federatedIssuer: null,
        federatedSubject: null,
        role: 'member',
        createdAt: at(1),
        disabledAt: null,
        lastLoginAt: null,
      });
      await users.insert(person('dora'));
      await users.insert(person('eve'));
      for (const [hash, name] of [
        ['sd', 'dora'],
        ['se', 'eve'],
      ] as const)
        await users.createSession({ idHash: hash, userName: name, createdAt: at(1), expiresAt: at(100) });
      await users.createSetupLink({
        tokenHash: 'ld',
        userName: 'dora',
        createdAt: at(1),
        expiresAt: at(100),
      });
      assert.equal(await users.delete('dora'), true);
      assert.equal(await users.find('dora'), undefined);
      assert.equal(await users.findSession('sd', at(2)), undefined);
      assert.equal(await users.findSetupLink('ld', at(2)), undefined);
      assert.equal(await users.delete('dora'), false);
      assert.equal((await users.find('eve'))?.name, 'eve');
      assert.equal((await users.findSession('se', at(2)))?.userName, 'eve');
      await db.close();
    });
  });
}

describe('OAuth store migrations (SQLite)', () => {
  it('marks clients created by the CLI before the created-by marker existed, and only those', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-oauth-'));
    dirs.push(dir);
    const file = path.join(dir, 'old.db');
    const raw = new Database(file);
    raw.exec(OAUTH_MIGRATIONS[0]!);
    raw.exec('CREATE TABLE schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT');
    raw.prepare("INSERT INTO schema_migrations VALUES ('oauth', 1)").run();
    const put = raw.prepare("INSERT INTO oauth_models (model, id, payload) VALUES ('Client', ?, ?)");
    put.run(
      'pcc_AAAAAAAAAAAAAAAA',
      JSON.stringify({ client_id: 'pcc_AAAAAAAAAAAAAAAA', portcullis_scopes: [] }),
    );
    // Registered clients: one whose random id happens to start like ours, one ordinary.
    const lucky = 'pcc_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
    put.run(lucky, JSON.stringify({ client_id: lucky, application_type: 'web', portcullis_scopes: [] }));
    put.run('pcc_CCCCCCCCCCCCCCCC', JSON.stringify({ client_id: 'x', application_type: 'web' }));
    raw.close();

    const db = openSqliteOAuthDatabase(file);
    const byId = new Map((await db.oauth.listClients()).map((c) => [String(c.client_id), c]));
    assert.equal(byId.get('pcc_AAAAAAAAAAAAAAAA')?.portcullis_created_by, 'operator');
    assert.equal(byId.get(lucky)?.portcullis_created_by, undefined);
    assert.equal(byId.get('x')?.portcullis_created_by, undefined);
    await db.close();
  });
});

describe('users migration to roles', () => {
  it('makes the local people of an older database members and leaves federated ones to their next sign-in', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-oauth-'));
    dirs.push(dir);
    const file = path.join(dir, 'old.db');
    const old = new Database(file);
    old.exec(USER_MIGRATIONS[0]!);
    old.exec(
      `CREATE TABLE schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT;
       INSERT INTO schema_migrations VALUES ('users', 1);
       INSERT INTO users (name, tenant, password_hash, created_at) VALUES ('ann', 'ann', 'scrypt$x', 1);
       INSERT INTO users (name, tenant, federated_issuer, federated_subject, created_at)
         VALUES ('bo@acme.example', 'bo@acme.example', 'https://idp.example', 'bo-1', 1);`,
    );
    old.close();
    const db = openSqliteOAuthDatabase(file);
    try {
      assert.equal((await db.users.find('ann'))?.role, 'member');
      assert.equal((await db.users.find('bo@acme.example'))?.role, null);
    } finally {
      await db.close();
    }
  });
});
