import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ApiKeyRecord, Note, Storage } from './index.js';
import {
  EFFECT_JOURNAL_RETENTION_MS,
  openMemoryStorage,
  openPostgresStorage,
  openSqliteStorage,
} from './index.js';
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
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-store-'));
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

const key = (id: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id,
  hash: 'ab'.repeat(32),
  owner: 'alice',
  tenant: 'alice',
  label: 'l',
  scopes: ['memory:read'],
  createdAt: new Date(1_000),
  expiresAt: null,
  lastUsedAt: null,
  revokedAt: null,
  ...over,
});
const note = (id: string, content: string, over: Partial<Note> = {}): Note => ({
  id,
  title: '',
  content,
  tags: [],
  createdAt: new Date(2_000),
  ...over,
});
const A = { tenant: 't1', owner: 'alice' };
const B = { tenant: 't1', owner: 'bob' };

for (const [name, open] of backends) {
  describe(`storage contract: ${name}`, () => {
    it('stores, finds, lists and revokes API keys', async () => {
      const s = await open();
      await s.apiKeys.insert(key('k1', { expiresAt: new Date(5_000) }));
      await s.apiKeys.insert(key('k2', { createdAt: new Date(2_000), scopes: ['a', 'b'] }));
      await assert.rejects(s.apiKeys.insert(key('k1')));
      assert.deepEqual(await s.apiKeys.findById('k1'), key('k1', { expiresAt: new Date(5_000) }));
      assert.equal(await s.apiKeys.findById('nope'), undefined);
      assert.deepEqual(
        (await s.apiKeys.list()).map((k) => k.id),
        ['k1', 'k2'],
      );
      assert.equal(await s.apiKeys.revoke('k2', new Date(9_000)), true);
      assert.equal(await s.apiKeys.revoke('k2', new Date(10_000)), true);
      assert.deepEqual(
        (await s.apiKeys.findById('k2'))?.revokedAt,
        new Date(9_000),
        'first revocation time is kept',
      );
      assert.equal(await s.apiKeys.revoke('nope', new Date()), false);
      await s.apiKeys.touchLastUsed('k1', new Date(7_000));
      assert.deepEqual((await s.apiKeys.findById('k1'))?.lastUsedAt, new Date(7_000));
      await s.ping();
      await s.close();
    });

    it('keeps notes per owner: get, search and delete never cross owners', async () => {
      const s = await open();
      await s.notes.save(A, note('n1', 'alpha bravo charlie', { title: 'First', tags: ['x'] }));
      await s.notes.save(B, note('n2', 'alpha delta'));
      assert.deepEqual(
        await s.notes.get(A, 'n1'),
        note('n1', 'alpha bravo charlie', { title: 'First', tags: ['x'] }),
      );
      assert.equal(await s.notes.get(A, 'n2'), undefined);
      assert.deepEqual(
        (await s.notes.search(A, 'alpha', 10)).map((h) => h.id),
        ['n1'],
      );
      assert.deepEqual(
        (await s.notes.search(B, 'ALPHA', 10)).map((h) => h.id),
        ['n2'],
      );
      assert.equal(await s.notes.delete(A, 'n2'), false);
      assert.ok(await s.notes.get(B, 'n2'));
      assert.equal(await s.notes.delete(A, 'n1'), true);
      assert.equal(await s.notes.get(A, 'n1'), undefined);
      assert.deepEqual(await s.notes.search(A, 'alpha', 10), []);
      await s.close();
    });

    it('journals the call behind a note write in the same write, and only writes that happened', async () => {
      const s = await open();
      const mark = (correlationId: string, at = 10_000) => ({ correlationId, at: new Date(at) });
      await s.notes.save(A, note('e1', 'journaled'), mark('req_save'));
      await s.notes.save(A, note('e2', 'not journaled'));
      assert.equal(await s.effects.committed('req_save'), true);
      // A save that fails (a duplicate id) journals nothing: both or neither.
      await assert.rejects(s.notes.save(A, note('e1', 'again'), mark('req_dup')));
      assert.equal(await s.effects.committed('req_dup'), false);
      assert.equal(await s.notes.delete(B, 'e1', mark('req_miss')), false);
      assert.equal(await s.effects.committed('req_miss'), false, 'nothing was deleted');
      assert.equal(await s.notes.delete(A, 'e1', mark('req_del')), true);
      assert.equal(await s.effects.committed('req_del'), true);
      // Entries past their retention are dropped as later writes happen.
      await s.notes.save(
        A,
        note('e3', 'much later'),
        mark('req_late', 10_000 + EFFECT_JOURNAL_RETENTION_MS + 1),
      );
      assert.equal(await s.effects.committed('req_save'), false);
      assert.equal(await s.effects.committed('req_late'), true);
      await s.close();
    });

    it('search requires every word, honours the limit and returns a snippet', async () => {
      const s = await open();
      for (let i = 0; i < 5; i++)
        await s.notes.save(A, note(`m${i}`, `meeting notes number ${i} about budgets`));
      await s.notes.save(A, note('other', 'meeting without the b-word'));
      assert.equal((await s.notes.search(A, 'meeting budgets', 3)).length, 3);
      assert.equal((await s.notes.search(A, 'meeting budgets', 50)).length, 5);
      const [hit] = await s.notes.search(A, 'budgets', 1);
      assert.match(hit!.snippet, /budgets/);
      await s.close();
    });

    it('keeps quarantined results until a person releases or discards them', async () => {
      const s = await open();
      const item = {
        id: 'q1',
        tenant: 't',
        principal: 'alice',
        tool: 'web_fetch',
        correlationId: 'req_1',
        createdAt: new Date(3_000),
        status: 'pending' as const,
        decidedAt: null,
        result: '{"content":[]}',
        findings: '[]',
      };
      await s.quarantine.insert(item);
      await s.quarantine.insert({ ...item, id: 'q2', createdAt: new Date(4_000) });
      assert.deepEqual(await s.quarantine.get('q1'), item);
      assert.deepEqual(
        (await s.quarantine.list({ status: 'pending', limit: 10 })).map((i) => i.id),
        ['q2', 'q1'],
      );
      assert.equal(await s.quarantine.decide('q1', 'released', new Date(5_000)), true);
      assert.equal(
        await s.quarantine.decide('q1', 'discarded', new Date(6_000)),
        false,
        'only pending items move',
      );
      assert.equal((await s.quarantine.get('q1'))?.result, item.result);
      assert.equal(await s.quarantine.decide('q2', 'discarded', new Date(6_000)), true);
      assert.equal((await s.quarantine.get('q2'))?.result, null, 'discarding drops the content');
      assert.deepEqual(
        (await s.quarantine.list({ status: 'pending', limit: 10 })).map((i) => i.id),
        [],
      );
      assert.equal(await s.quarantine.decide('nope', 'released', new Date()), false);
      await s.close();
    });

    it('query syntax in a search is plain text', async () => {
      const s = await open();
      await s.notes.save(A, note('q1', 'the title column is not a filter'));
      for (const q of [
        'title:column',
        '"column',
        'column OR x',
        'NEAR(title column)',
        'col*',
        '(',
        ')',
        '"',
        "'",
        '^',
        ':',
      ]) {
        await s.notes.search(A, q, 10);
      }
      assert.deepEqual(
        (await s.notes.search(A, 'title:column', 10)).map((h) => h.id),
        ['q1'],
      );
      assert.deepEqual(await s.notes.search(A, '!!! ???', 10), []);
      await s.close();
    });

    it('records a confirmation nonce once: the second use is a replay, until it is purged', async () => {
      const s = await open();
      assert.equal(await s.confirmations.useNonce('n1', new Date(10_000)), true);
      assert.equal(await s.confirmations.useNonce('n1', new Date(10_000)), false);
      assert.equal(await s.confirmations.useNonce('n2', new Date(20_000)), true);
      const both = await Promise.all([
        s.confirmations.useNonce('n3', new Date(10_000)),
        s.confirmations.useNonce('n3', new Date(10_000)),
      ]);
      assert.deepEqual(both.sort(), [false, true]);
      await s.confirmations.purge(new Date(10_000));
      // n1 expired and was purged; by then its state is refused as expired anyway.
      assert.equal(await s.confirmations.useNonce('n2', new Date(20_000)), false);
      assert.equal(await s.confirmations.useNonce('n1', new Date(30_000)), true);
      await s.close();
    });

    it('keeps pending approvals: decided once before expiry, used once, matched by call', async () => {
      const s = await open();
      const approval = {
        id: 'a1',
        binding: 'api-key:k1',
        subject: 'alice',
        tenant: 'alice',
        clientId: null,
        tool: 'memory_delete',
        upstream: null,
        argsHash: 'h1',
        args: '{"id":"note_x"}',
        createdAt: new Date(1_000),
        expiresAt: new Date(601_000),
        status: 'pending' as const,
        decidedAt: null,
      };
      await s.confirmations.insertApproval(approval);
      await s.confirmations.insertApproval({
        ...approval,
        id: 'a2',
        argsHash: 'h2',
        createdAt: new Date(2_000),
      });
      await assert.rejects(s.confirmations.insertApproval(approval));
      assert.deepEqual(await s.confirmations.getApproval('a1'), approval);
      const listed = (pending: boolean, now: number) =>
        s.confirmations
          .listApprovals({ pending, now: new Date(now), limit: 10 })
          .then((l) => l.map((a) => a.id));
      assert.deepEqual(await listed(true, 3_000), ['a2', 'a1'], 'newest first');
      assert.deepEqual(await listed(true, 601_000), [], 'expired ones are not pending');
      assert.deepEqual(await listed(false, 601_000), ['a2', 'a1']);
      assert.equal((await s.confirmations.findApproval('api-key:k1', 'memory_delete', 'h1'))?.id, 'a1');
      assert.equal(await s.confirmations.findApproval('api-key:k2', 'memory_delete', 'h1'), undefined);
      assert.equal(await s.confirmations.findApproval('api-key:k1', 'memory_get', 'h1'), undefined);

      assert.equal(await s.confirmations.useApproval('a1'), false, 'a pending approval cannot be used');
      assert.equal(
        await s.confirmations.decideApproval('a1', 'approved', new Date(601_000)),
        false,
        'expired',
      );
      assert.equal(await s.confirmations.decideApproval('a1', 'approved', new Date(5_000)), true);
      assert.equal(
        await s.confirmations.decideApproval('a1', 'denied', new Date(6_000)),
        false,
        'decided once',
      );
      const decided = await s.confirmations.getApproval('a1');
      assert.equal(decided?.status, 'approved');
      assert.equal(decided?.args, null, 'the arguments are dropped once decided');
      assert.deepEqual(decided?.decidedAt, new Date(5_000));
      assert.deepEqual(await listed(true, 5_000), ['a2'], 'decided ones are not pending');
      assert.equal(await s.confirmations.useApproval('a1'), true);
      assert.equal(await s.confirmations.useApproval('a1'), false, 'used once');
      assert.equal(await s.confirmations.findApproval('api-key:k1', 'memory_delete', 'h1'), undefined);

      await s.confirmations.purge(new Date(601_000 + 86_400_000));
      assert.equal(await s.confirmations.getApproval('a1'), undefined);
      await s.close();
    });

    it('keeps taint labels per person until they expire, never moving an expiry earlier', async () => {
      const s = await open();
      const alice = '["t1","alice"]';
      await s.taint.record(alice, ['untrusted-source', 'private-data'], new Date(10_000));
      await s.taint.record('["t1","bob"]', ['private-data'], new Date(10_000));
      assert.deepEqual(await s.taint.live(alice, new Date(5_000)), ['private-data', 'untrusted-source']);
      assert.deepEqual(await s.taint.live('["t2","alice"]', new Date(5_000)), [], 'another tenant');
      // A later use extends a label; an earlier expiry recorded afterwards does not shorten it.
      await s.taint.record(alice, ['untrusted-source'], new Date(20_000));
      await s.taint.record(alice, ['untrusted-source'], new Date(12_000));
      assert.deepEqual(
        await s.taint.live(alice, new Date(10_000)),
        ['untrusted-source'],
        'expiry is exclusive',
      );
      assert.deepEqual(await s.taint.live(alice, new Date(19_999)), ['untrusted-source']);
      assert.deepEqual(await s.taint.live(alice, new Date(20_000)), []);
      await s.taint.purge(new Date(15_000));
      assert.deepEqual(await s.taint.live(alice, new Date(0)), ['untrusted-source'], 'purge keeps live rows');
      assert.deepEqual(await s.taint.live('["t1","bob"]', new Date(0)), [], 'and drops expired ones');
      await s.close();
    });
  });
}
