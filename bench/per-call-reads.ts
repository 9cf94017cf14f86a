// `node dist/bench/per-call-reads.js [iterations] [rounds]`: the CPU cost of the reads every
// tools/call makes before policy (API key, the owner's role ceiling, taint labels), on a real
// SQLite file, as process CPU µs per call (median of rounds). Two cases: a quiet database, and
// one where another connection commits between calls (the invalidation signal must notice every
// one). With BENCH_CHANGE_EVERY=n the other connection changes a person's role every n calls.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { authenticate, createApiKey } from '../src/auth/index.js';
import { openSqliteOAuthDatabase } from '../src/oauth/index.js';
import { compilePolicy, createTaintTracker, policyConfigSchema } from '../src/policy/index.js';
import { openSqliteDatabase, openSqliteStorage } from '../src/storage/index.js';
import { createPersonCeilings, ensurePerson } from '../src/users/index.js';

const iterations = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 5);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-reads-'));
const file = path.join(dir, 'portcullis.db');
const storage = openSqliteStorage(file);
const oauthDb = openSqliteOAuthDatabase(file);
await ensurePerson(oauthDb.users, { name: 'bench', role: 'admin' }, new Date());
const { key } = await createApiKey(
  storage.apiKeys,
  { owner: 'bench', label: 'bench', scopes: ['memory:read', 'memory:write'], expiresAt: null },
  new Date(),
);
const people = createPersonCeilings(oauthDb.users, compilePolicy(policyConfigSchema.parse({})).roles);
const taint = createTaintTracker(storage.taint, { windowMs: 600_000 });
await taint.record({ tenant: 'default', subject: 'bench' }, ['private-data'], Date.now());
// Another writer on the same file (as the CLI would be): a table nobody caches.
const other = openSqliteDatabase(file, () => undefined);
other.exec('CREATE TABLE IF NOT EXISTS bench_noise (n INTEGER)');
const noise = other.prepare('INSERT INTO bench_noise (n) VALUES (?)');
const input = { authorization: `Bearer ${key}`, url: new URL('http://127.0.0.1/mcp') };

async function oneCall(): Promise<void> {
  const now = new Date();
  const r = await authenticate(input, { apiKeys: storage.apiKeys, people, now });
  if (!r.ok) throw new Error(r.reason);
  const seen = await taint.seen(r.principal, now.getTime());
  if (!seen.has('private-data')) throw new Error('taint lost');
}

async function round(commitBetween: boolean): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    if (commitBetween) noise.run(i);
    await oneCall();
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (let i = 0; i < 2000; i++) await oneCall(); // warm-up
const quiet: number[] = [];
const busy: number[] = [];
for (let r = 0; r < rounds; r++) {
  quiet.push(await round(false));
  busy.push(await round(true));
}
// The noise insert alone, to subtract from the busy case.
const s = process.cpuUsage();
for (let i = 0; i < iterations; i++) noise.run(i);
const u = process.cpuUsage(s);
const noiseUs = (u.user + u.system) / iterations;
process.stdout.write(
  JSON.stringify({
    iterations,
    rounds,
    quietUsPerCall: +median(quiet).toFixed(2),
    afterOtherCommitUsPerCall: +(median(busy) - noiseUs).toFixed(2),
    quiet: quiet.map((x) => +x.toFixed(2)),
    busy: busy.map((x) => +(x - noiseUs).toFixed(2)),
  }) + '\n',
);
other.close();
await oauthDb.close();
await storage.close();
fs.rmSync(dir, { recursive: true, force: true });
