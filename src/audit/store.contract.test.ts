import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GENESIS_HASH, sealRecord } from './chain.js';
import { signSeal } from './checkpoint.js';
import { createMemoryAuditStore } from './memory-store.js';
import type { AuditEntry, AuditRecord } from './record.js';
import { openPostgresAuditStore } from './postgres-store.js';
import { openSqliteAuditStore } from './sqlite-store.js';
import { createPgTestSchema } from '../storage/index.js';
import { iterateRecords, type AuditBatch, type AuditStore, type ChainState } from './store.js';
import { makeTestKeys, sampleEntry } from './test-support.js';

const keys = makeTestKeys();

function chainOf(count: number, startTime = Date.parse('2025-01-01T00:00:00.000Z')): AuditRecord[] {
  return chainFrom(
    Array.from({ length: count }, (_, i) => sampleEntry(i + 1)),
    startTime,
  );
}

function chainFrom(entries: AuditEntry[], startTime = Date.parse('2025-01-01T00:00:00.000Z')): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (const [i, entry] of entries.entries()) {
    const seq = i + 1;
    const record = sealRecord(entry, {
      seq,
      prevHash,
      time: new Date(startTime + seq * 60_000).toISOString(),
      salt: 'a1'.repeat(32),
    });
    out.push(record);
    prevHash = record.hash;
  }
  return out;
}

function headOf(records: AuditRecord[]) {
  const last = records.at(-1) as AuditRecord;
  return signSeal('head', { seq: last.seq, hash: last.hash, time: last.time }, keys);
}

/** A builder that ignores the state: the batch is fixed in advance. */
const fixed = (batch: AuditBatch) => () => batch;

type Opened = { store: AuditStore; cleanup: () => void | Promise<void> };
const backends: Array<[string, () => Opened | Promise<Opened>]> = [
  ['memory', () => ({ store: createMemoryAuditStore(), cleanup: () => undefined })],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'pc-audit-contract-'));
      return {
        store: openSqliteAuditStore({ file: path.join(dir, 'audit.db') }),
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'postgres',
    async () => {
      const t = await createPgTestSchema();
      return { store: await openPostgresAuditStore(t.config), cleanup: () => t.drop() };
    },
  ],
];

for (const [name, open] of backends) {
  describe(`audit store contract (${name})`, () => {
    async function withStore(fn: (store: AuditStore) => Promise<void>) {
      const { store, cleanup } = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
        await cleanup();
      }
    }

    test('records come back exactly as appended, in seq order', async () => {
      await withStore(async (store) => {
        const records = chainOf(7);
        await store.appendBatch(
          fixed({ records: records.slice(0, 3), head: headOf(records.slice(0, 3)), checkpoints: [] }),
        );
        await store.appendBatch(fixed({ records: records.slice(3), head: headOf(records), checkpoints: [] }));
        const read = [];
        for await (const r of iterateRecords(store)) read.push(r);
        assert.deepEqual(read, records);
        assert.deepEqual(await store.readFrom(5, 2), records.slice(4, 6));
      });
    });

    test('the head is replaced by each batch and checkpoints accumulate', async () => {
      await withStore(async (store) => {
        const records = chainOf(4);
        const cp = signSeal('checkpoint', { seq: 2, hash: records[1]!.hash, time: records[1]!.time }, keys);
        await store.appendBatch(
          fixed({ records: records.slice(0, 2), head: headOf(records.slice(0, 2)), checkpoints: [cp] }),
        );
        await store.appendBatch(fixed({ records: records.slice(2), head: headOf(records), checkpoints: [] }));
        assert.deepEqual(await store.head(), headOf(records));
        assert.deepEqual(await store.checkpoints(), [cp]);
        assert.equal(await store.anchor(), undefined);
      });
    });

    test('a batch that does not continue the chain is refused and writes nothing', async () => {
      await withStore(async (store) => {
        const records = chainOf(4);
        await store.appendBatch(
          fixed({ records: records.slice(0, 2), head: headOf(records.slice(0, 2)), checkpoints: [] }),
        );
        await assert.rejects(
          store.appendBatch(fixed({ records: records.slice(3), head: headOf(records), checkpoints: [] })),
        );
        assert.equal((await store.readFrom(1, 100)).length, 2);
        assert.equal((await store.head())?.seq, 2);
      });
    });

    test('queries filter by principal, time, tool, decision and reason, and page', async () => {
      await withStore(async (store) => {
        const records = chainOf(20);
        await store.appendBatch(fixed({ records, head: headOf(records), checkpoints: [] }));
        const alice = await store.query({ principal: 'alice', limit: 100 });
        assert.deepEqual(
          alice.map((r) => r.seq),
          [2, 4, 6, 8, 10, 12, 14, 16, 18, 20],
        );
        const window = await store.query({ since: records[4]!.time, until: records[7]!.time, limit: 100 });
        assert.deepEqual(
          window.map((r) => r.seq),
          [5, 6, 7],
        );
        const denies = await store.query({ decision: 'deny', tool: 'web__fetch', limit: 100 });
        assert.deepEqual(
          denies.map((r) => r.seq),
          [5, 10, 15],
        );
        const scoped = await store.query({ reason: 'scope-missing', principal: 'alice', limit: 100 });
        assert.deepEqual(
          scoped.map((r) => r.seq),
          [10, 20],
        );
        assert.deepEqual(await store.query({ reason: 'scope', limit: 100 }), [], 'a reason matches whole');
        assert.deepEqual(
          (await store.query({ outcome: 'denied', limit: 100 })).map((r) => r.seq),
          [5, 10, 15, 20],
        );
        assert.deepEqual(await store.query({ clientId: 'app-1', limit: 100 }), []);
        assert.deepEqual(await store.query({ upstream: 'files', limit: 100 }), []);
        const newest = await store.query({ limit: 3, newest: true });
        assert.deepEqual(
          newest.map((r) => r.seq),
          [18, 19, 20],
        );
        const page = await store.query({ afterSeq: 17, limit: 2 });
        assert.deepEqual(
          page.map((r) => r.seq),
          [18, 19],
        );
      });
    });

    test('prune deletes records up to the anchor and keeps the anchor', async () => {
      await withStore(async (store) => {
        const records = chainOf(10);
        const cp = signSeal('checkpoint', { seq: 6, hash: records[5]!.hash, time: records[5]!.time }, keys);
        const cp2 = signSeal('checkpoint', { seq: 3, hash: records[2]!.hash, time: records[2]!.time }, keys);
        await store.appendBatch(fixed({ records, head: headOf(records), checkpoints: [cp2, cp] }));
        const anchor = signSeal('anchor', { seq: 6, hash: records[5]!.hash, time: records[9]!.time }, keys);
        assert.equal(await store.prune(anchor), 6);
        assert.deepEqual(
          (await store.readFrom(1, 100)).map((r) => r.seq),
          [7, 8, 9, 10],
        );
        assert.deepEqual(await store.anchor(), anchor);
        assert.deepEqual(
          (await store.checkpoints()).map((c) => c.seq),
          [6],
        );
      });
    });

    test('open intents are the tool-intent records no tool-call of the same call follows', async () => {
      await withStore(async (store) => {
        const intent = (id: string) =>
          sampleEntry(1, { correlationId: id, event: 'tool-intent', outcome: 'pending' });
        const outcome = (id: string) => sampleEntry(1, { correlationId: id });
        const records = chainFrom([
          intent('a'),
          intent('b'),
          outcome('a'),
          sampleEntry(4, { correlationId: 'c', event: 'authentication' }),
          intent('c'),
          intent('d'),
        ]);
        await store.appendBatch(() => ({
          records: records.slice(0, 3),
          head: headOf(records.slice(0, 3)),
          checkpoints: [],
        }));
        await store.appendBatch(() => ({
          records: records.slice(3),
          head: headOf(records),
          checkpoints: [],
        }));
        assert.deepEqual(
          (await store.openIntents()).map((r) => [r.seq, r.correlationId]),
          [
            [2, 'b'],
            [5, 'c'],
            [6, 'd'],
          ],
        );
        assert.deepEqual((await store.openIntents())[0], records[1]);
        // Pruning removes intents with their records; the chain's later ones stay open.
        const anchor = signSeal('anchor', { seq: 2, hash: records[1]!.hash, time: records[5]!.time }, keys);
        await store.prune(anchor);
        assert.deepEqual(
          (await store.openIntents()).map((r) => r.correlationId),
          ['c', 'd'],
        );
      });
    });

    test('erasing a principal drops its personal values and salts but keeps commitments', async () => {
      await withStore(async (store) => {
        const records = chainOf(6);
        await store.appendBatch(fixed({ records, head: headOf(records), checkpoints: [] }));
        const event = sealRecord(sampleEntry(7, { principal: 'cli:root' }), {
          seq: 7,
          prevHash: records[5]!.hash,
          time: records[5]!.time,
          salt: 'b2'.repeat(32),
        });
        const seen: (readonly number[])[] = [];
        const erased6 = await store.erasePrincipal('alice', (state, seqs) => {
          seen.push(seqs);
          assert.equal(state.lastSeq, 6);
          return { records: [event], head: headOf([event]), checkpoints: [] };
        });
        assert.deepEqual(erased6, [2, 4, 6]);
        assert.deepEqual(seen, [[2, 4, 6]]);
        assert.equal((await store.head())?.seq, 7);
        const after = await store.readFrom(1, 6);
        const erased = after.filter((r) => r.erased);
        assert.deepEqual(
          erased.map((r) => r.seq),
          [2, 4, 6],
        );
        for (const r of erased) {
          assert.equal(r.principal, undefined);
          assert.equal(r.tenant, undefined);
          assert.equal(r.args, undefined);
          assert.equal(r.salt, undefined);
          assert.deepEqual(r.commitments, records[r.seq - 1]!.commitments);
          assert.equal(r.hash, records[r.seq - 1]!.hash);
        }
        assert.deepEqual(await store.query({ principal: 'alice', limit: 10 }), []);
        assert.equal((await store.query({ principal: 'bob', limit: 10 })).length, 3);
        assert.deepEqual(await store.erasePrincipal('alice', () => assert.fail('nothing left to erase')), []);
      });
    });

    test('the connection a call used round-trips, and goes with the person on erasure', async () => {
      await withStore(async (store) => {
        const records = chainFrom(
          [1, 2, 3].map((i) =>
            sampleEntry(i, {
              connectionId: `conn_${i}`,
              upstreamSubject: `user${i}@upstream`,
              upstream: 'crm',
            }),
          ),
        );
        await store.appendBatch(fixed({ records, head: headOf(records), checkpoints: [] }));
        assert.deepEqual(await store.readFrom(1, 10), records);
        assert.deepEqual(
          (await store.query({ upstream: 'crm', limit: 10 })).map((r) => r.connectionId),
          ['conn_1', 'conn_2', 'conn_3'],
        );
        const event = sealRecord(sampleEntry(4, { principal: 'cli:root' }), {
          seq: 4,
          prevHash: records[2]!.hash,
          time: records[2]!.time,
          salt: 'b2'.repeat(32),
        });
        assert.deepEqual(
          await store.erasePrincipal('alice', () => ({
            records: [event],
            head: headOf([event]),
            checkpoints: [],
          })),
          [2],
        );
        const [bob1, alice, bob3] = await store.readFrom(1, 3);
        assert.equal(alice!.connectionId, undefined);
        assert.equal(alice!.upstreamSubject, undefined);
        assert.equal(alice!.hash, records[1]!.hash, 'the chain still holds');
        assert.deepEqual([bob1!.connectionId, bob3!.upstreamSubject], ['conn_1', 'user3@upstream']);
      });
    });

    test('an erasure whose event cannot be appended erases nothing', async () => {
      await withStore(async (store) => {
        const records = chainOf(6);
        await store.appendBatch(fixed({ records, head: headOf(records), checkpoints: [] }));
        await assert.rejects(
          store.erasePrincipal('alice', () => {
            throw new Error('cannot sign');
          }),
        );
        const stale = records.at(-1)!;
        await assert.rejects(
          store.erasePrincipal('alice', () => ({ records: [stale], head: headOf([stale]), checkpoints: [] })),
        );
        assert.equal((await store.query({ principal: 'alice', limit: 10 })).length, 3);
        assert.equal((await store.readFrom(1, 100)).filter((r) => r.erased).length, 0);
      });
    });

    test('the builder is given the chain as stored, and a batch it declines writes nothing', async () => {
      await withStore(async (store) => {
        const records = chainOf(5);
        const cp = signSeal('checkpoint', { seq: 3, hash: records[2]!.hash, time: records[2]!.time }, keys);
        const states: ChainState[] = [];
        assert.equal(
          await store.appendBatch((state) => {
            states.push(state);
            return undefined;
          }),
          undefined,
        );
        await store.appendBatch(fixed({ records, head: headOf(records), checkpoints: [cp] }));
        await store.appendBatch((state) => {
          states.push(state);
          return undefined;
        });
        assert.deepEqual(states, [
          { head: undefined, anchor: undefined, lastSeq: 0, lastCheckpointSeq: 0 },
          { head: headOf(records), anchor: undefined, lastSeq: 5, lastCheckpointSeq: 3 },
        ]);
        assert.equal((await store.head())?.seq, 5);
      });
    });

    test('a batch whose head is not its last record, or a builder that throws, writes nothing', async () => {
      await withStore(async (store) => {
        const records = chainOf(4);
        await assert.rejects(
          store.appendBatch(fixed({ records, head: headOf(records.slice(0, 2)), checkpoints: [] })),
        );
        await assert.rejects(
          store.appendBatch(() => {
            throw new Error('signing failed');
          }),
        );
        assert.deepEqual(await store.readFrom(1, 100), []);
        assert.equal(await store.head(), undefined);
        // A head rewind without records is refused too: the head only moves with the chain.
        await store.appendBatch(fixed({ records, head: headOf(records), checkpoints: [] }));
        await assert.rejects(
          store.appendBatch(fixed({ records: [], head: headOf(records.slice(0, 2)), checkpoints: [] })),
        );
        assert.equal((await store.head())?.seq, 4);
      });
    });
  });
}
