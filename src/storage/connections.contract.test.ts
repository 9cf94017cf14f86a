import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ConnectionRecord, Storage } from './index.js';
import { openMemoryStorage, openPostgresStorage, openSqliteStorage } from './index.js';
import { createPgTestSchema, type PgTestSchema } from './postgres/test-support.js';

const dirs: string[] = [];
const schemas: PgTestSchema[] = [];
after(async () => {
  dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  for (const s of schemas) await s.drop();
});

const backends: [string, () => Storage | Promise<Storage>][] = [
  ['memory', () => openMemoryStorage()],
  [
    'sqlite',
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-conn-'));
      dirs.push(dir);
      return openSqliteStorage(path.join(dir, 'test.db'));
    },
  ],
  [
    'postgres',
    async () => {
      const t = await createPgTestSchema();
      schemas.push(t);
      return openPostgresStorage(t.config);
    },
  ],
];

const conn = (id: string, over: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  id,
  tenant: 'acme',
  subject: 'alice',
  upstream: 'crm',
  mode: 'person-secret',
  state: 'connected',
  upstreamSubject: null,
  scopes: [],
  createdAt: new Date(1_000),
  lastUsedAt: null,
  expiresAt: null,
  brokenReason: null,
  sealed: `v1.dk.${id}`,
  ...over,
});

for (const [name, open] of backends) {
  describe(`connection store contract (${name})`, () => {
    it('keeps one connection per person and upstream; a new one replaces the old and returns it', async () => {
      const s = await open();
      assert.equal(await s.connections.put(conn('c1')), undefined);
      await s.connections.put(conn('c2', { upstream: 'github', mode: 'person-oauth', scopes: ['repo'] }));
      await s.connections.put(conn('c3', { subject: 'bob' }));
      const replaced = await s.connections.put(conn('c4', { createdAt: new Date(2_000) }));
      assert.equal(replaced?.id, 'c1');
      assert.equal(await s.connections.get('c1'), undefined);
      assert.equal((await s.connections.find('acme', 'alice', 'crm'))?.id, 'c4');
      assert.deepEqual((await s.connections.find('acme', 'alice', 'github'))?.scopes, ['repo']);
      assert.equal(
        await s.connections.find('other', 'alice', 'crm'),
        undefined,
        'the tenant is part of the person',
      );
      await s.close();
    });

    it('lists by person and upstream, oldest first, and round-trips every field', async () => {
      const s = await open();
      const full = conn('c1', {
        mode: 'person-oauth',
        state: 'broken',
        upstreamSubject: 'alice@github',
        scopes: ['repo', 'read:org'],
        lastUsedAt: new Date(5_000),
        expiresAt: new Date(9_000),
        brokenReason: 'The upstream refused to renew access.',
      });
      await s.connections.put(full);
      await s.connections.put(conn('c2', { subject: 'bob', createdAt: new Date(3_000) }));
      await s.connections.put(conn('c3', { upstream: 'github', createdAt: new Date(2_000) }));
      assert.deepEqual(await s.connections.get('c1'), full);
      assert.deepEqual(
        (await s.connections.list({})).map((r) => r.id),
        ['c1', 'c3', 'c2'],
      );
      assert.deepEqual(
        (await s.connections.list({ subject: 'alice' })).map((r) => r.id),
        ['c1', 'c3'],
      );
      assert.deepEqual(
        (await s.connections.list({ upstream: 'crm' })).map((r) => r.id),
        ['c1', 'c2'],
      );
      assert.deepEqual(await s.connections.list({ tenant: 'nobody' }), []);
      await s.close();
    });

    it('updates fields, and swaps the sealed value only while it is the expected one', async () => {
      const s = await open();
      await s.connections.put(conn('c1'));
      assert.equal(await s.connections.update('c1', { state: 'expired', lastUsedAt: new Date(7_000) }), true);
      assert.equal(await s.connections.update('nope', { state: 'expired' }), false);
      assert.equal(
        await s.connections.swapSealed('c1', 'v1.dk.c1', { sealed: 'v1.dk.new', state: 'connected' }),
        true,
      );
      assert.equal(
        await s.connections.swapSealed('c1', 'v1.dk.c1', { sealed: 'v1.dk.lost', state: 'connected' }),
        false,
        'a second refresh from the same old value loses',
      );
      const r = await s.connections.get('c1');
      assert.equal(r?.sealed, 'v1.dk.new');
      assert.equal(r?.state, 'connected');
      assert.deepEqual(r?.lastUsedAt, new Date(7_000));
      await s.close();
    });

    it('of two refreshes at once from the same sealed value, exactly one wins', async () => {
      const s = await open();
      await s.connections.put(conn('c1'));
      const wins = await Promise.all(
        ['v1.dk.a', 'v1.dk.b'].map((sealed) => s.connections.swapSealed('c1', 'v1.dk.c1', { sealed })),
      );
      assert.deepEqual(wins.filter(Boolean), [true]);
      assert.ok(['v1.dk.a', 'v1.dk.b'].includes((await s.connections.get('c1'))!.sealed));
      await s.close();
    });

    it('reconnections at once each replace one record: none is lost, one remains', async () => {
      const s = await open();
      await s.connections.put(conn('c1'));
      // Open the connections first, so the puts below really overlap on a pooled backend.
      await Promise.all([1, 2, 3, 4].map(() => s.connections.update('c1', {})));
      const ids = ['c2', 'c3', 'c4', 'c5'];
      const replaced = await Promise.all(ids.map((id) => s.connections.put(conn(id))));
      const remaining = (await s.connections.list({})).map((r) => r.id);
      assert.equal(remaining.length, 1);
      assert.deepEqual(
        [...replaced.map((r) => r?.id), remaining[0]].sort(),
        ['c1', ...ids],
        'every record but the last is handed back for revocation exactly once',
      );
      await s.close();
    });

    it('deletes one connection, and every connection of a person (erasure)', async () => {
      const s = await open();
      await s.connections.put(conn('c1'));
      await s.connections.put(conn('c2', { upstream: 'github' }));
      await s.connections.put(conn('c3', { subject: 'bob' }));
      await s.connections.put(conn('c4', { tenant: 'other' }));
      assert.equal(await s.connections.delete('c1'), true);
      assert.equal(await s.connections.delete('c1'), false);
      assert.equal(await s.connections.deleteOf('alice', 'acme'), 1);
      assert.deepEqual(
        (await s.connections.list({})).map((r) => r.id),
        ['c3', 'c4'],
      );
      assert.equal(await s.connections.deleteOf('alice'), 1);
      assert.deepEqual(
        (await s.connections.list({})).map((r) => r.id),
        ['c3'],
      );
      await s.close();
    });

    it('of two first data keys at once, exactly one is added', async () => {
      const s = await open();
      await Promise.all([1, 2, 3, 4].map(() => s.connections.update('-', {})));
      const added = await Promise.all(
        ['dk1', 'dk2', 'dk3'].map((dataKeyId) =>
          s.connections.addFirstDataKey({
            dataKeyId,
            kekId: 'a',
            wrapped: `w-${dataKeyId}`,
            createdAt: new Date(1),
          }),
        ),
      );
      assert.deepEqual(added.filter(Boolean), [true]);
      assert.equal((await s.connections.dataKeys()).length, 1);
      await s.close();
    });

    it('keeps data-key wraps per KEK, ignores a duplicate, and retires the others', async () => {
      const s = await open();
      await s.connections.addDataKey({
        dataKeyId: 'dk1',
        kekId: 'a',
        wrapped: 'w-a',
        createdAt: new Date(1),
      });
      await s.connections.addDataKey({
        dataKeyId: 'dk1',
        kekId: 'a',
        wrapped: 'other',
        createdAt: new Date(2),
      });
      await s.connections.addDataKey({
        dataKeyId: 'dk1',
        kekId: 'b',
        wrapped: 'w-b',
        createdAt: new Date(3),
      });
      assert.deepEqual(
        (await s.connections.dataKeys()).map((k) => [k.kekId, k.wrapped]),
        [
          ['a', 'w-a'],
          ['b', 'w-b'],
        ],
      );
      assert.equal(
        await s.connections.addFirstDataKey({
          dataKeyId: 'dk2',
          kekId: 'c',
          wrapped: 'w-c',
          createdAt: new Date(4),
        }),
        false,
        'a first data key only into an empty vault',
      );
      assert.equal(await s.connections.retireDataKeys('b'), 1);
      assert.deepEqual(
        (await s.connections.dataKeys()).map((k) => k.kekId),
        ['b'],
      );
      await s.close();
    });
  });
}
