import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  formatLockfile,
  hashDefinition,
  importLockfile,
  loadPins,
  parseLockfile,
  type Lockfile,
} from '../../src/pins/index.js';
import type { PinChange, Storage } from '../../src/storage/index.js';
import { openMemoryStorage, openPostgresStorage, openSqliteStorage } from '../../src/storage/index.js';
import { createPgTestSchema, type PgTestSchema } from '../../src/storage/postgres/test-support.js';

const dirs: string[] = [];
const schemas: PgTestSchema[] = [];
after(async () => {
  dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  for (const s of schemas) await s.drop();
});

/** A backend: a fresh database, and a way to open a second handle on the same one (another replica). */
type Opened = { store: Storage; another: () => Promise<Storage> };
const backends: [string, () => Promise<Opened>][] = [
  [
    'memory',
    async () => {
      const store = openMemoryStorage();
      // One process's memory: the "other replica" is the same store, with a no-op close.
      return { store, another: async () => ({ ...store, close: async () => {} }) };
    },
  ],
  [
    'sqlite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-pins-'));
      dirs.push(dir);
      const file = path.join(dir, 'test.db');
      return { store: openSqliteStorage(file), another: async () => openSqliteStorage(file) };
    },
  ],
  [
    'postgres',
    async () => {
      const t = await createPgTestSchema();
      schemas.push(t);
      return { store: await openPostgresStorage(t.config), another: () => openPostgresStorage(t.config) };
    },
  ],
];

const AT = new Date('2026-03-04T05:06:07.000Z');
const def = (name: string, description = `Does ${name}.`) => ({
  name,
  description,
  inputSchema: { type: 'object', properties: { q: { type: 'string' } } },
});
const approve = (upstream: string, key: string, definition: unknown, at = AT): PinChange => ({
  op: 'approve',
  upstream,
  key,
  hash: hashDefinition(definition),
  definition,
  at,
});
const reject = (upstream: string, key: string, definition: unknown, at = AT): PinChange => ({
  op: 'reject',
  upstream,
  key,
  hash: hashDefinition(definition),
  at,
});

for (const [name, open] of backends) {
  describe(`pin store contract (${name})`, () => {
    it('starts empty at revision 0, and keeps approvals, rejections and definitions as given', async () => {
      const { store: s } = await open();
      assert.equal(await s.pins.revision(), 0);
      assert.deepEqual(await s.pins.read(), { revision: 0, upstreams: {} });
      assert.deepEqual(await s.pins.observed(), {});
      // Key order inside a definition is kept: an export must show what was approved, as it was.
      const d = {
        name: 'z',
        description: 'Zed ☃ \u200b',
        inputSchema: { type: 'object' },
        a: [1, null, 'x'],
      };
      const rev = await s.pins.apply([approve('u', 'z', d), reject('u', 'z', def('z', 'evil'))]);
      assert.equal(rev, 1, 'one transaction, one revision');
      const read = await s.pins.read();
      assert.equal(read.revision, 1);
      const pin = read.upstreams.u!.approved.z!;
      assert.equal(JSON.stringify(pin.definition), JSON.stringify(d));
      assert.equal(pin.hash, hashDefinition(d));
      assert.equal(pin.approvedAt, AT.toISOString());
      assert.deepEqual(read.upstreams.u!.rejected.z, [
        { hash: hashDefinition(def('z', 'evil')), rejectedAt: AT.toISOString() },
      ]);
      await s.close();
    });

    it('approving lifts a rejection of that hash; a repeated rejection or a stale withdrawal changes nothing', async () => {
      const { store: s } = await open();
      const v1 = def('search', 'one');
      const v2 = def('search', 'two');
      await s.pins.apply([approve('u', 'search', v1)]);
      await s.pins.apply([reject('u', 'search', v2)]);
      const rev = await s.pins.revision();
      assert.equal(await s.pins.apply([reject('u', 'search', v2)]), rev, 'already rejected: no new revision');
      assert.equal(
        await s.pins.apply([{ op: 'withdraw', upstream: 'u', key: 'search', hash: hashDefinition(v2) }]),
        rev,
        'withdrawing a hash that is not the approved one drops nothing',
      );
      assert.equal((await s.pins.read()).upstreams.u!.approved.search!.hash, hashDefinition(v1));
      await s.pins.apply([reject('u', 'search', def('search', 'three'))]);
      assert.deepEqual(
        (await s.pins.read()).upstreams.u!.rejected.search!.map((r) => r.hash),
        [hashDefinition(v2), hashDefinition(def('search', 'three'))],
        'rejections in the order they were made',
      );
      await s.pins.apply([approve('u', 'search', v2)]);
      const after = (await s.pins.read()).upstreams.u!;
      assert.equal(after.approved.search!.hash, hashDefinition(v2));
      assert.deepEqual(
        after.rejected.search!.map((r) => r.hash),
        [hashDefinition(def('search', 'three'))],
      );
      await s.pins.apply([{ op: 'withdraw', upstream: 'u', key: 'search', hash: hashDefinition(v2) }]);
      assert.equal((await s.pins.read()).upstreams.u!.approved.search, undefined);
      await s.close();
    });

    it('concurrent decisions from two handles (replicas, or the CLI beside the gateway) lose nothing', async () => {
      const { store: a, another } = await open();
      const b = await another();
      const n = 12;
      // Each handle approves its own keys and rejects a hash of the other's, all at once.
      const work = [];
      for (let i = 0; i < n; i++) {
        work.push(a.pins.apply([approve('u', `a${i}`, def(`a${i}`))]));
        work.push(b.pins.apply([approve('u', `b${i}`, def(`b${i}`))]));
        work.push(a.pins.apply([reject('u', `b${i}`, def(`b${i}`, 'rug pull'))]));
        work.push(b.pins.apply([reject('u', `a${i}`, def(`a${i}`, 'rug pull'))]));
      }
      const revisions = await Promise.all(work);
      assert.equal(new Set(revisions).size, 4 * n, 'every decision its own revision');
      const read = await b.pins.read();
      assert.equal(read.revision, 4 * n);
      const u = read.upstreams.u!;
      assert.equal(Object.keys(u.approved).length, 2 * n);
      assert.equal(Object.keys(u.rejected).length, 2 * n);
      for (let i = 0; i < n; i++) {
        assert.equal(u.approved[`a${i}`]!.hash, hashDefinition(def(`a${i}`)));
        assert.deepEqual(
          u.rejected[`b${i}`]!.map((r) => r.hash),
          [hashDefinition(def(`b${i}`, 'rug pull'))],
        );
      }
      // An approval and a rejection of the same hash at once: serialised, never half of each.
      const same = def('same');
      await Promise.all([
        a.pins.apply([approve('u', 'same', same)]),
        b.pins.apply([reject('u', 'same', same)]),
      ]);
      const end = (await a.pins.read()).upstreams.u!;
      const approved = end.approved.same?.hash === hashDefinition(same);
      assert.ok(approved, 'the approval is kept whichever came first');
      assert.equal(await a.pins.revision(), 4 * n + 2, 'both decisions applied, one after the other');
      await b.close();
      await a.close();
    });

    it('replace is one transaction: a change that fails half way leaves every pin as it was', async () => {
      const { store: s } = await open();
      await s.pins.apply([approve('u', 'keep', def('keep'))]);
      const before = await s.pins.read();
      await assert.rejects(
        s.pins.replace({
          u: {
            approved: { x: { hash: hashDefinition(def('x')), approvedAt: 'now', definition: def('x') } },
            rejected: {},
          },
          // undefined cannot be stored as JSON: the second row fails after the first was written.
          v: {
            approved: { y: { hash: 'sha256:00', approvedAt: 'now', definition: undefined } },
            rejected: {},
          },
        }),
      );
      assert.deepEqual(await s.pins.read(), before);
      await assert.rejects(
        s.pins.apply([
          approve('u', 'new', def('new')),
          {
            ...(approve('u', 'bad', def('bad')) as Extract<PinChange, { op: 'approve' }>),
            definition: undefined,
          },
        ]),
      );
      assert.deepEqual(await s.pins.read(), before, 'apply too is all or nothing');
      await s.close();
    });

    it('an import of a bad lockfile changes nothing; export and import round-trip byte for byte', async () => {
      const { store: s } = await open();
      const lock: Lockfile = {
        lockfileVersion: 1,
        upstreams: {
          zeta: {
            approved: {
              b: pinOf(def('b')),
              a: pinOf(def('a')),
              '(instructions)': pinOf({ instructions: 'Be nice.' }),
            },
            rejected: { b: [rej(def('b', 'x2')), rej(def('b', 'x1'))] },
          },
          alpha: { approved: { 'prompt:p': pinOf({ name: 'p', arguments: [] }) }, rejected: {} },
        },
      };
      const text = formatLockfile(lock);
      await importLockfile(s.pins, parseLockfile(text, 'test.lock.json'), 'test.lock.json');
      assert.equal(
        formatLockfile((await loadPins(s.pins)).lock),
        text,
        'export is the imported file, byte for byte',
      );
      const rev = await s.pins.revision();

      // A corrupt file and a file with a hash that is not its definition's: refused, nothing changed.
      assert.throws(() => parseLockfile(text.slice(0, 40), 'bad.json'), /not valid JSON/);
      const forged = structuredClone(lock);
      forged.upstreams.alpha!.approved['prompt:p']!.hash = hashDefinition(def('something else'));
      await assert.rejects(
        importLockfile(s.pins, forged, 'forged.json'),
        /not imported \(nothing changed\).*not the hash of its definition/,
      );
      const malformed = structuredClone(lock);
      malformed.upstreams.zeta!.rejected.b![0]!.hash = 'md5:abc';
      await assert.rejects(
        importLockfile(s.pins, malformed, 'malformed.json'),
        /rejected hash is not sha256/,
      );
      assert.equal(await s.pins.revision(), rev);
      assert.equal(formatLockfile((await loadPins(s.pins)).lock), text);

      // A good import replaces everything.
      const next = formatLockfile({
        lockfileVersion: 1,
        upstreams: { alpha: { approved: { c: pinOf(def('c')) }, rejected: {} } },
      });
      await importLockfile(s.pins, parseLockfile(next, 'next.json'), 'next.json');
      assert.equal(formatLockfile((await loadPins(s.pins)).lock), next);
      assert.ok((await s.pins.revision()) > rev);
      await s.close();
    });

    it('keeps one observation per upstream, as given', async () => {
      const { store: s, another } = await open();
      const snap = {
        observedAt: AT.toISOString(),
        transport: 'stdio',
        target: 'x',
        server: {},
        items: {},
        malformed: [],
      };
      await s.pins.putObserved('u', snap);
      await s.pins.putObserved('v', { ...snap, target: 'v1' });
      await s.pins.putObserved('v', { ...snap, target: 'v2' });
      const other = await another();
      assert.deepEqual(await other.pins.observed(), { u: snap, v: { ...snap, target: 'v2' } });
      await s.pins.deleteObserved('u');
      assert.deepEqual(Object.keys(await other.pins.observed()), ['v']);
      assert.equal(await s.pins.revision(), 0, 'observations are not pin decisions');
      await other.close();
      await s.close();
    });
  });
}

function pinOf(definition: unknown) {
  return { hash: hashDefinition(definition), approvedAt: AT.toISOString(), definition };
}
function rej(definition: unknown) {
  return { hash: hashDefinition(definition), rejectedAt: AT.toISOString() };
}
