// Child process for pg-concurrent.test.ts: one gateway-like writer on its own PostgreSQL pools,
// appending `count` records through the group-committing audit log from 8 concurrent callers,
// then printing how many it appended. Bounded by `count`.
import { createAuditLog } from './audit-log.js';
import { loadAuditKeys } from './keys.js';
import { openPostgresAuditStore } from './postgres-store.js';
import { sampleEntry } from './test-support.js';
import type { PgStorageConfig } from '../storage/index.js';

const [configJson, keysDir, countArg, tag] = process.argv.slice(2);
if (!configJson || !keysDir || !countArg || !tag)
  throw new Error('usage: pg-writer <config> <keysDir> <count> <tag>');
const count = Number(countArg);
const store = await openPostgresAuditStore(JSON.parse(configJson) as PgStorageConfig);
const log = await createAuditLog({
  store,
  keys: await loadAuditKeys(keysDir),
  checkpointEvery: 50,
});
let started = 0;
let done = 0;
async function worker(): Promise<void> {
  while (started < count) {
    started += 1;
    await log.append(sampleEntry(started, { correlationId: `${tag}-${started}` }));
    done += 1;
  }
}
await Promise.all(Array.from({ length: 8 }, worker));
await log.close();
await store.close();
process.stdout.write(`${done}\n`);
