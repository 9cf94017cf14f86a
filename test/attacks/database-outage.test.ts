import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPgTestSchema, type PgTestSchema } from '../../src/storage/postgres/test-support.js';
import { legacyToolCall } from '../helpers/audit-records.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startCuttableProxy, viaProxy, type CuttableProxy } from '../helpers/replicas.js';

/**
 * A side-effecting call sent while the database is away (a stopped server, a partition, a
 * failover in progress) must not run, must not be answered as an internal error that invites no
 * retry, and must not run later either without its record. The gateway reaches PostgreSQL
 * through a proxy the test cuts.
 */
describe('side-effecting calls while PostgreSQL is unreachable', () => {
  let db: PgTestSchema;
  let proxy: CuttableProxy;
  let t: TestGateway;
  let key: string;
  let admin: pg.Client;
  const countNotes = async (content: string) =>
    (
      await admin.query<{ n: number }>(
        `SELECT COUNT(*)::int AS n FROM ${db.schema}.notes WHERE content = $1`,
        [content],
      )
    ).rows[0]!.n;

  before(async () => {
    db = await createPgTestSchema();
    proxy = await startCuttableProxy({ host: '127.0.0.1', port: Number(new URL(db.adminUrl).port || 5432) });
    t = await startTestGateway({
      config:
        `storage:\n  driver: postgres\n  url: ${viaProxy(db.writeUrl, proxy.port)}\n` +
        `  readUrl: ${viaProxy(db.readUrl, proxy.port)}\n  schema: ${db.schema}\n`,
    });
    key = (await t.key()).key;
    admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await t.close();
    await proxy.close();
    await db.drop();
  });

  it('a write while the database is cut gets 503 with Retry-After and a JSON-RPC error, and does not run', async () => {
    proxy.cutOff();
    let res: Response;
    try {
      res = await postMcp(t.url, legacyToolCall('memory_save', { content: 'sent during the outage' }), {
        key,
      });
    } finally {
      proxy.restore();
    }
    assert.equal(res.status, 503);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    const body = await readRpc(res);
    assert.equal(body.error?.code, -32603);
    assert.match(body.error.message, /database cannot be reached; nothing was run/);
    assert.doesNotMatch(body.error.message, /127\.0\.0\.1|postgres|ECONN/i, 'no internal detail on the wire');
    assert.equal(await countNotes('sent during the outage'), 0);
  });

  it('once the database is back the same gateway serves again, and the retried write runs once', async () => {
    let res: Response | undefined;
    for (let i = 0; i < 50; i++) {
      res = await postMcp(t.url, legacyToolCall('memory_save', { content: 'retried after the outage' }), {
        key,
      });
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(res!.status, 200);
    assert.match(JSON.stringify(await readRpc(res!)), /note_/);
    assert.equal(await countNotes('retried after the outage'), 1);
    assert.equal(await countNotes('sent during the outage'), 0);
  });

  it('a write whose audit record cannot be written (the database answers, the audit table refuses) does not run', async () => {
    // The storage works; only the audit append fails: the tool must still not run.
    await admin.query(`REVOKE INSERT ON ${db.schema}.audit_records FROM ${db.schema}`);
    let res: Response;
    try {
      res = await postMcp(t.url, legacyToolCall('memory_save', { content: 'no record, no run' }), { key });
    } finally {
      await admin.query(`GRANT INSERT ON ${db.schema}.audit_records TO ${db.schema}`);
    }
    assert.equal(res.status, 503);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(await countNotes('no record, no run'), 0);
  });

  it('/readyz names the database as down while it is cut, and ready again after', async () => {
    proxy.cutOff();
    let down: Response;
    try {
      down = await fetch(new URL('/readyz', t.url));
    } finally {
      proxy.restore();
    }
    assert.equal(down.status, 503);
    const body = (await down.json()) as {
      status: string;
      checks: Record<string, { state: string; error?: string }>;
    };
    assert.equal(body.status, 'not-ready');
    assert.equal(body.checks.storage!.state, 'down');
    assert.equal(body.checks.audit!.state, 'down');
    assert.doesNotMatch(JSON.stringify(body), /postgres:\/\//);
    let up: Response | undefined;
    for (let i = 0; i < 50; i++) {
      up = await fetch(new URL('/readyz', t.url));
      if (up.status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(up!.status, 200);
  });
});
