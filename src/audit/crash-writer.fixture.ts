// Child process for crash.test.ts: appends under concurrency and prints each seq as soon as its
// append resolves (i.e. is acknowledged), until it is killed. Bounded so it can never run forever.
import { createAuditLog } from './audit-log.js';
import { loadAuditKeys } from './keys.js';
import { openSqliteAuditStore } from './sqlite-store.js';
import { sampleEntry } from './test-support.js';

const [file, keysDir] = process.argv.slice(2);
if (!file || !keysDir) throw new Error('usage: crash-writer <audit.db> <keysDir>');

const MAX_APPENDS = 200_000;
const WORKERS = 8;
const log = await createAuditLog({
  store: openSqliteAuditStore({ file }),
  keys: await loadAuditKeys(keysDir),
  checkpointEvery: 50,
});
let started = 0;

async function worker(): Promise<void> {
  while (started < MAX_APPENDS) {
    started += 1;
    const record = await log.append(sampleEntry(started));
    // Pipes are synchronous on Linux: once written, the parent can read the line even after SIGKILL.
    process.stdout.write(`${record.seq}\n`);
  }
}

await Promise.all(Array.from({ length: WORKERS }, worker));
