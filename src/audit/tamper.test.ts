// Tampering directly in the SQLite file, as an attacker with write access to audit.db (but not to
// the signing key) would: every kind of change is detected and located.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { createAuditLog } from './audit-log.js';
import { computeHash, sealRecord } from './chain.js';
import { openSqliteAuditStore } from './sqlite-store.js';
import { makeTestKeys, sampleEntry } from './test-support.js';
import type { VerifyResult } from './verify.js';
import { verifyAuditStore } from './verify-store.js';
import type { AuditRecord } from './record.js';

const keys = makeTestKeys();
const COUNT = 25;

/** A closed log of 25 records with checkpoints at 10 and 20 (and 25 at close). */
async function buildLog(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-tamper-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'audit.db');
  const store = openSqliteAuditStore({ file });
  const log = await createAuditLog({ store, keys, checkpointEvery: 10 });
  await Promise.all(Array.from({ length: 12 }, (_, i) => log.append(sampleEntry(i + 1))));
  for (let i = 13; i <= COUNT; i++) await log.append(sampleEntry(i));
  await log.close();
  await store.close();
  return file;
}

async function verifyFile(file: string): Promise<VerifyResult> {
  const store = openSqliteAuditStore({ file });
  try {
    return await verifyAuditStore(store, keys.publicKey);
  } finally {
    await store.close();
  }
}

function tamper(file: string, fn: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    db.transaction(() => fn(db))();
  } finally {
    db.close();
  }
}

function broken(result: VerifyResult, seq: number, problem: string): void {
  assert.equal(result.ok, false, 'tampering must be detected');
  if (!result.ok) {
    assert.equal(result.problem, problem, result.detail);
    assert.equal(result.firstBrokenSeq, seq);
  }
}

const COLUMNS = `time, prev_hash, hash, correlation_id, session_id, principal, tenant, client_id, credential_id,
  auth_method, event, tool, upstream, args_json, decision, reasons_json, scope, outcome, error_code, latency_ms,
  bytes_in, bytes_out, salt, commitments_json, erased`;

test('an untouched log verifies', async (t) => {
  const file = await buildLog(t);
  assert.deepEqual(await verifyFile(file), { ok: true, count: COUNT, lastSeq: COUNT, erased: 0 });
});

test('an edited field is detected at its record', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) =>
    db.prepare("UPDATE audit_records SET decision = 'allow', outcome = 'ok' WHERE seq = 5").run(),
  );
  broken(await verifyFile(file), 5, 'hash-mismatch');
});

test('an edited personal value is detected against its commitment', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => db.prepare("UPDATE audit_records SET principal = 'mallory' WHERE seq = 7").run());
  broken(await verifyFile(file), 7, 'commitment-mismatch');
});

test('a deleted middle record is detected where it was', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => db.prepare('DELETE FROM audit_records WHERE seq = 12').run());
  broken(await verifyFile(file), 12, 'sequence-gap');
});

test('a deleted record hidden by renumbering the later ones is detected where it was', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    db.prepare('DELETE FROM audit_records WHERE seq = 12').run();
    // Two steps through negative numbers, so the primary key never collides.
    db.prepare('UPDATE audit_records SET seq = -(seq - 1) WHERE seq > 12').run();
    db.prepare('UPDATE audit_records SET seq = -seq WHERE seq < 0').run();
  });
  broken(await verifyFile(file), 12, 'sequence-gap');
});

test('an inserted record is detected at the insertion point', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    const prev = db.prepare('SELECT hash, time FROM audit_records WHERE seq = 8').get() as {
      hash: string;
      time: string;
    };
    // A well-formed forgery: correct hash, linked to its predecessor.
    const forged = sealRecord(sampleEntry(99, { principal: 'mallory' }), {
      seq: 9,
      prevHash: prev.hash,
      time: prev.time,
      salt: '00'.repeat(32),
    });
    db.prepare('UPDATE audit_records SET seq = -(seq + 1) WHERE seq >= 9').run();
    db.prepare('UPDATE audit_records SET seq = -seq WHERE seq < 0').run();
    insertRow(db, forged);
  });
  broken(await verifyFile(file), 9, 'inserted');
});

test('two swapped records are detected', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    db.prepare('UPDATE audit_records SET seq = -1 WHERE seq = 15').run();
    db.prepare('UPDATE audit_records SET seq = 15 WHERE seq = 16').run();
    db.prepare('UPDATE audit_records SET seq = 16 WHERE seq = -1').run();
  });
  broken(await verifyFile(file), 15, 'reordered');
});

test('two records whose contents were swapped in place are detected', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    db.exec(`CREATE TEMP TABLE t AS SELECT * FROM audit_records WHERE seq IN (3, 4);
      UPDATE audit_records SET (${COLUMNS}) = (SELECT ${COLUMNS} FROM t WHERE t.seq = 4) WHERE seq = 3;
      UPDATE audit_records SET (${COLUMNS}) = (SELECT ${COLUMNS} FROM t WHERE t.seq = 3) WHERE seq = 4;`);
  });
  broken(await verifyFile(file), 3, 'reordered');
});

test('a truncated tail is detected from the signed head', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    db.prepare('DELETE FROM audit_records WHERE seq > 22').run();
  });
  broken(await verifyFile(file), 23, 'truncated');
});

test('a truncated tail with its checkpoint removed is still detected from the signed head', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    db.prepare('DELETE FROM audit_records WHERE seq > 18').run();
    db.prepare('DELETE FROM audit_checkpoints WHERE seq > 18').run();
  });
  broken(await verifyFile(file), 19, 'truncated');
});

test('removing the head as well as the tail is detected', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    db.prepare('DELETE FROM audit_records WHERE seq > 18').run();
    db.prepare("DELETE FROM audit_seals WHERE kind = 'head'").run();
  });
  broken(await verifyFile(file), 19, 'truncated');
});

test('removing the head, the tail and its checkpoints is still reported', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    db.prepare('DELETE FROM audit_records WHERE seq > 18').run();
    db.prepare('DELETE FROM audit_checkpoints WHERE seq > 18').run();
    db.prepare("DELETE FROM audit_seals WHERE kind = 'head'").run();
  });
  broken(await verifyFile(file), 19, 'head-missing');
});

test('a forged checkpoint signature is detected', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    const forgedHash = 'f'.repeat(64);
    db.prepare('UPDATE audit_checkpoints SET hash = ? WHERE seq = 10').run(forgedHash);
  });
  broken(await verifyFile(file), 10, 'checkpoint-signature');
});

test('a head signed by another key is detected', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    db.prepare("UPDATE audit_seals SET signature = ? WHERE kind = 'head'").run(
      Buffer.alloc(64, 1).toString('base64url'),
    );
  });
  broken(await verifyFile(file), COUNT, 'head-signature');
});

test('an edit followed by recomputing every later hash is caught by the signed checkpoints', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => rechainFrom(db, 13, (row) => ({ ...row, decision: 'error' })));
  // Located to the checkpoint interval: the edit is somewhere in 11..20.
  broken(await verifyFile(file), 11, 'checkpoint-mismatch');
});

test('an edit after the last checkpoint, with the chain recomputed, is caught by the signed head', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-tamper-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'audit.db');
  const store = openSqliteAuditStore({ file });
  const log = await createAuditLog({ store, keys, checkpointEvery: 10 });
  for (let i = 1; i <= 14; i++) await log.append(sampleEntry(i));
  await store.close(); // crash: no closing checkpoint
  tamper(file, (db) => rechainFrom(db, 12, (row) => ({ ...row, decision: 'error' })));
  broken(await verifyFile(file), 11, 'head-mismatch');
});

test("a record appended behind the log's back is detected", async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => {
    const last = db.prepare('SELECT hash, time FROM audit_records WHERE seq = ?').get(COUNT) as {
      hash: string;
      time: string;
    };
    insertRow(
      db,
      sealRecord(sampleEntry(100), {
        seq: COUNT + 1,
        prevHash: last.hash,
        time: last.time,
        salt: '11'.repeat(32),
      }),
    );
  });
  broken(await verifyFile(file), COUNT + 1, 'beyond-head');
});

/** The 25-record log with alice's records erased through the log: a genuine, signed erasure at 26. */
async function buildErasedLog(t: TestContext): Promise<{ file: string; alice: number[]; bob: number[] }> {
  const file = await buildLog(t);
  const store = openSqliteAuditStore({ file });
  const log = await createAuditLog({ store, keys, checkpointEvery: 10 });
  await log.erase({ principal: 'alice' }, { correlationId: 'erase', principal: 'cli:root' });
  await log.close();
  await store.close();
  const seqs = Array.from({ length: COUNT }, (_, i) => i + 1);
  return { file, alice: seqs.filter((s) => s % 2 === 0), bob: seqs.filter((s) => s % 2 === 1) };
}

const HAND_ERASE = `UPDATE audit_records SET session_id = NULL, principal = NULL, tenant = NULL, client_id = NULL,
  credential_id = NULL, args_json = NULL, salt = NULL, erased = 1`;

test('a genuine erasure verifies and counts its records as erased', async (t) => {
  const { file, alice } = await buildErasedLog(t);
  assert.deepEqual(await verifyFile(file), {
    ok: true,
    count: COUNT + 1,
    lastSeq: COUNT + 1,
    erased: alice.length,
  });
});

test('records nulled and marked erased by hand are detected at the first of them', async (t) => {
  const file = await buildLog(t);
  tamper(file, (db) => db.prepare(`${HAND_ERASE} WHERE seq IN (7, 9)`).run());
  broken(await verifyFile(file), 7, 'erasure-unrecorded');
});

test('a hand-made erasure beside a genuine one is detected', async (t) => {
  const { file, bob } = await buildErasedLog(t);
  tamper(file, (db) => db.prepare(`${HAND_ERASE} WHERE seq = ?`).run(bob[2]));
  broken(await verifyFile(file), bob[2] as number, 'erasure-unrecorded');
});

test('an erasure event stretched over more records is detected at the event', async (t) => {
  const { file, bob } = await buildErasedLog(t);
  tamper(file, (db) => {
    const row = db.prepare('SELECT erasure_json FROM audit_records WHERE seq = ?').get(COUNT + 1) as {
      erasure_json: string;
    };
    const erasure = JSON.parse(row.erasure_json) as { ranges: [number, number][] };
    const first = bob[0]!;
    erasure.ranges = [...erasure.ranges, [first, first] as [number, number]].sort((a, b) => a[0] - b[0]);
    db.prepare('UPDATE audit_records SET erasure_json = ? WHERE seq = ?').run(
      JSON.stringify(erasure),
      COUNT + 1,
    );
    db.prepare(`${HAND_ERASE} WHERE seq = ?`).run(bob[0]);
  });
  broken(await verifyFile(file), COUNT + 1, 'hash-mismatch');
});

test('a stretched erasure event with its hash recomputed is caught by its signature, at the event', async (t) => {
  const { file, bob } = await buildErasedLog(t);
  const store = openSqliteAuditStore({ file });
  const [event] = await store.readFrom(COUNT + 1, 1);
  await store.close();
  assert.ok(event?.erasure);
  const first = bob[0]!;
  const ranges = [...event.erasure.ranges, [first, first] as const].sort((a, b) => a[0] - b[0]);
  const forged = { ...event, erasure: { ...event.erasure, ranges } };
  tamper(file, (db) => {
    db.prepare('UPDATE audit_records SET erasure_json = ?, hash = ? WHERE seq = ?').run(
      JSON.stringify(forged.erasure),
      computeHash(forged),
      COUNT + 1,
    );
    db.prepare(`${HAND_ERASE} WHERE seq = ?`).run(bob[0]);
  });
  broken(await verifyFile(file), COUNT + 1, 'erasure-signature');
});

function insertRow(db: Database.Database, r: AuditRecord): void {
  db.prepare(
    `INSERT INTO audit_records (seq, ${COLUMNS}) VALUES (${Array.from({ length: 26 }, () => '?').join(', ')})`,
  ).run(
    r.seq,
    r.time,
    r.prevHash,
    r.hash,
    r.correlationId,
    r.sessionId ?? null,
    r.principal ?? null,
    r.tenant ?? null,
    r.clientId ?? null,
    r.credentialId ?? null,
    r.authMethod ?? null,
    r.event,
    r.tool ?? null,
    r.upstream ?? null,
    r.args ? JSON.stringify(r.args) : null,
    r.decision,
    JSON.stringify(r.reasons),
    r.scope ?? null,
    r.outcome,
    r.errorCode ?? null,
    r.latencyMs,
    r.bytesIn,
    r.bytesOut,
    r.salt ?? null,
    JSON.stringify(r.commitments),
    0,
  );
}

/** Edits one record through the store's own reader and recomputes every later hash, as an attacker would. */
function rechainFrom(db: Database.Database, seq: number, edit: (r: AuditRecord) => AuditRecord): void {
  const rows = db
    .prepare('SELECT seq, prev_hash, hash FROM audit_records WHERE seq >= ? ORDER BY seq')
    .all(seq) as Array<{
    seq: number;
  }>;
  const full = new Map<number, AuditRecord>();
  const read = db.prepare('SELECT * FROM audit_records WHERE seq = ?');
  for (const { seq: s } of rows) {
    const row = read.get(s) as Record<string, unknown>;
    full.set(s, {
      seq: s,
      time: row.time,
      prevHash: row.prev_hash,
      hash: row.hash,
      correlationId: row.correlation_id,
      sessionId: row.session_id ?? undefined,
      principal: row.principal ?? undefined,
      tenant: row.tenant ?? undefined,
      credentialId: row.credential_id ?? undefined,
      authMethod: row.auth_method ?? undefined,
      event: row.event,
      tool: row.tool ?? undefined,
      args: row.args_json ? (JSON.parse(row.args_json as string) as unknown) : undefined,
      decision: row.decision,
      reasons: JSON.parse(row.reasons_json as string) as unknown,
      outcome: row.outcome,
      latencyMs: row.latency_ms,
      bytesIn: row.bytes_in,
      bytesOut: row.bytes_out,
      salt: row.salt ?? undefined,
      commitments: JSON.parse(row.commitments_json as string) as unknown,
    } as AuditRecord);
  }
  let prevHash = (full.get(seq) as AuditRecord).prevHash;
  for (const [s, original] of full) {
    const edited = s === seq ? edit(original) : original;
    const relinked = { ...edited, prevHash };
    const hash = computeHash(relinked);
    db.prepare('UPDATE audit_records SET decision = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(
      relinked.decision,
      prevHash,
      hash,
      s,
    );
    prevHash = hash;
  }
}
