import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createPgTestSchema } from '../storage/index.js';
import { ensureAuditKeys } from './keys.js';
import { openPostgresAuditStore } from './postgres-store.js';
import { verifyAuditStore } from './verify-store.js';

const WRITERS = 3;
const PER_WRITER = 300;

function runWriter(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('./pg-writer.fixture.js', import.meta.url)), ...args],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Number(out.trim()));
      else reject(new Error(`writer exited with ${code}`));
    });
  });
}

test('three processes appending to one PostgreSQL audit chain at once: one order, no gap, no fork', async (t) => {
  const pg = await createPgTestSchema();
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-pg-audit-'));
  t.after(async () => {
    await rm(dir, { recursive: true, force: true });
    await pg.drop();
  });
  const keysDir = path.join(dir, 'keys');
  const keys = await ensureAuditKeys(keysDir);
  const started = Date.now();
  const appended = await Promise.all(
    Array.from({ length: WRITERS }, (_, i) =>
      runWriter([JSON.stringify(pg.config), keysDir, String(PER_WRITER), `w${i}`]),
    ),
  );
  const ms = Date.now() - started;
  assert.deepEqual(appended, Array(WRITERS).fill(PER_WRITER));

  const store = await openPostgresAuditStore(pg.config);
  try {
    const verdict = await verifyAuditStore(store, keys.publicKey);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    const records = await store.readFrom(1, WRITERS * PER_WRITER + 10);
    assert.equal(records.length, WRITERS * PER_WRITER, 'count equals appended');
    assert.deepEqual(
      records.map((r) => r.seq),
      records.map((_, i) => i + 1),
      'seq 1..n with no gap',
    );
    // Every writer's records are all there, interleaved in the one order.
    for (let w = 0; w < WRITERS; w++) {
      assert.equal(records.filter((r) => r.correlationId.startsWith(`w${w}-`)).length, PER_WRITER);
    }
    t.diagnostic(`${WRITERS * PER_WRITER} records from ${WRITERS} processes in ${ms} ms`);
  } finally {
    await store.close();
  }
});
