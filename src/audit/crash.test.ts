import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAuditKeys } from './keys.js';
import { openSqliteAuditStore } from './sqlite-store.js';
import { verifyAuditStore } from './verify-store.js';

const ACKS_BEFORE_KILL = 400;
const GIVE_UP_MS = 60_000;

test('every acknowledged record survives a SIGKILL of the writer and the chain verifies', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'audit.db');
  const keysDir = path.join(dir, 'keys');
  const keys = await ensureAuditKeys(keysDir);

  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./crash-writer.fixture.js', import.meta.url)), file, keysDir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const acked: number[] = [];
  let buffered = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  const giveUp = setTimeout(() => child.kill('SIGKILL'), GIVE_UP_MS);
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) acked.push(Number(line));
    if (acked.length >= ACKS_BEFORE_KILL) child.kill('SIGKILL');
  });
  const signal = await exited;
  clearTimeout(giveUp);
  // Lines the child wrote before dying may still sit in the pipe.
  await new Promise<void>((resolve) =>
    child.stdout.readableEnded ? resolve() : child.stdout.once('end', resolve),
  );
  assert.equal(signal, 'SIGKILL');
  assert.ok(
    acked.length >= ACKS_BEFORE_KILL,
    `the writer acknowledged ${acked.length} records before it was killed`,
  );

  const store = openSqliteAuditStore({ file });
  try {
    const verdict = await verifyAuditStore(store, keys.publicKey);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    if (!verdict.ok) return;
    const present = new Set((await store.readFrom(1, verdict.lastSeq + 1)).map((r) => r.seq));
    const lost = acked.filter((seq) => !present.has(seq));
    assert.deepEqual(lost, [], 'no acknowledged record is lost');
    assert.equal(new Set(acked).size, acked.length, 'no seq is acknowledged twice');
  } finally {
    await store.close();
  }
});
