import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  canonicalJson,
  loadAuditKeys,
  openSqliteAuditStore,
  verifyAuditStore,
} from '../../src/audit/index.js';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('the audit log survives kill -9', () => {
  it('after SIGKILL under load, every acknowledged call and every stored note has its record, and the chain verifies', async () => {
    const dir = tempDir('portcullis-crash-');
    dirs.push(dir);
    const { child, banner } = await startCli(['--data-dir', dir, '--port', '0'], {
      // Room for the load: the per-minute limit would otherwise end it early.
      PORTCULLIS_RATE_LIMITS__CREDENTIAL__POINTS: '100000',
    });
    const url = /MCP endpoint: (\S+)/.exec(banner)![1]!;
    const key = /(pcs_[a-z0-9]{16}_[A-Za-z0-9_-]{43})/.exec(banner)![1]!;

    const acknowledged: string[] = [];
    let stop = false;
    const worker = async (w: number) => {
      // Bounded: each worker stops after 400 calls or when the server is gone.
      for (let i = 0; i < 400 && !stop; i++) {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'mcp-protocol-version': '2025-11-25',
              authorization: `Bearer ${key}`,
            },
            body: JSON.stringify({
              jsonrpc: '2.0',
              id: i,
              method: 'tools/call',
              params: { name: 'memory_save', arguments: { content: `worker ${w} call ${i}` } },
            }),
          });
          await res.text();
          if (res.status === 200) acknowledged.push(res.headers.get('x-request-id')!);
        } catch {
          return; // connection refused or reset: the server was killed
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    while (acknowledged.length < 200 && !stop) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    stop = true;
    await Promise.all(workers);
    assert.ok(acknowledged.length >= 200);

    const store = openSqliteAuditStore({ file: path.join(dir, 'audit.db') });
    try {
      const keys = await loadAuditKeys(path.join(dir, 'keys'));
      const verdict = await verifyAuditStore(store, keys.publicKey);
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
      const recorded = new Set((await store.query({ limit: 1_000_000 })).map((r) => r.correlationId));
      const missing = acknowledged.filter((id) => !recorded.has(id));
      assert.deepEqual(missing, [], `${missing.length} acknowledged calls have no audit record`);
    } finally {
      await store.close();
    }

    // The gateway restarts on the crashed directory and the CLI agrees the log is intact.
    const again = await startCli(['--data-dir', dir, '--port', '0']);
    again.child.kill('SIGTERM');
    await new Promise((r) => again.child.once('exit', r));
    const verify = await runCli(['audit', 'verify', '--data-dir', dir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    // Every note on disk, acknowledged or not, has the record of the call that wrote it: the
    // calls in flight at the kill committed their intent first, and the restart closed them.
    const { argsHmacKey } = await loadAuditKeys(path.join(dir, 'keys'));
    const db = new Database(path.join(dir, 'portcullis.db'), { readonly: true });
    const notes = (db.prepare('SELECT content FROM notes').all() as { content: string }[]).map(
      (n) => n.content,
    );
    db.close();
    const after = openSqliteAuditStore({ file: path.join(dir, 'audit.db') });
    try {
      const calls = (await after.query({ tool: 'memory_save', limit: 1_000_000 })).filter(
        (r) => r.event === 'tool-call',
      );
      const byHash = new Map(calls.map((r) => [r.args?.hash, r]));
      const unrecorded = notes.filter((content) => {
        const hash = createHmac('sha256', argsHmacKey).update(canonicalJson({ content })).digest('hex');
        const record = byHash.get(hash);
        return !(record?.outcome === 'ok' || record?.errorCode === 'effect-committed');
      });
      assert.deepEqual(unrecorded, [], `${unrecorded.length} of ${notes.length} stored notes have no record`);
      assert.ok(notes.length >= acknowledged.length);
    } finally {
      await after.close();
    }
  });
});
