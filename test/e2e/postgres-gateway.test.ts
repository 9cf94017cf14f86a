import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import pg from 'pg';
import { openPostgresOAuthDatabase } from '../../src/oauth/index.js';
import { openPostgresStorage } from '../../src/storage/index.js';
import { createPgTestSchema, type PgTestSchema } from '../../src/storage/postgres/test-support.js';
import { runCli } from '../helpers/cli.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { addUser } from '../helpers/oauth-gateway.js';
import { approvalLink, decideOnPage } from '../helpers/policy-approval.js';
import { callTool, connectV2, textOf } from '../helpers/policy-clients.js';

const ALICE = { name: 'alice', password: 'correct horse battery' };

/**
 * The real gateway on `storage.driver: postgres`, on roles of its own (a write role and a
 * SELECT-only read role): tool calls through the SDK, a raw API-key call, an out-of-band
 * confirmation, and `audit verify` / `migrate --dry-run` / `doctor` from the CLI beside it.
 */
describe('the gateway on PostgreSQL', () => {
  let db: PgTestSchema;
  let t: TestGateway;
  let key: string;
  let client: Client;
  before(async () => {
    db = await createPgTestSchema();
    t = await startTestGateway({
      config: `storage:\n  driver: postgres\n  url: ${db.writeUrl}\n  readUrl: ${db.readUrl}\n  schema: ${db.schema}\n`,
    });
    key = (await t.key({ owner: 'alice' })).key;
    const oauth = await openPostgresOAuthDatabase(db.config);
    await addUser(oauth, ALICE.name, ALICE.password);
    await oauth.close();
    ({ client } = await connectV2(t.url, key));
  });
  after(async () => {
    await client.close();
    await t.close();
    await db.drop();
  });

  it('keeps notes, keys, approvals and the audit chain in PostgreSQL', async () => {
    const saved = await callTool(client, 'memory_save', { content: 'Quarterly budget review on Thursday' });
    const id = saved.structuredContent.id as string;
    const found = await callTool(client, 'memory_search', { query: 'budget & !"thursday:*' });
    assert.deepEqual(
      (found.structuredContent.items as { id: string }[]).map((r) => r.id),
      [id],
      'the query is words, not tsquery syntax',
    );

    // An OAuth-less call with the API key alone, over plain HTTP.
    const raw = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'memory_get', arguments: { id } } },
      { key },
    );
    assert.equal(raw.status, 200);
    assert.match(JSON.stringify((await readRpc(raw)).result), /Quarterly budget/);

    // A destructive call waits for its person on the approval page, then runs once.
    const first = await callTool(client, 'memory_delete', { id });
    assert.equal(first.isError, true);
    const link = approvalLink(textOf(first));
    const page = await decideOnPage(new TestBrowser(t.gw.url.origin), link.url, ALICE, 'approve');
    assert.equal(page.status, 200);
    const ran = await callTool(client, 'memory_delete', { id });
    assert.deepEqual(ran.structuredContent, { deleted: true }, textOf(ran));
    const again = await callTool(client, 'memory_delete', { id });
    assert.equal(again.isError, true, 'the approval was used once');

    // Everything is in the schema; no SQLite file was made for the audit log.
    assert.equal(fs.existsSync(path.join(t.dataDir, 'audit.db')), false);
    const admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    try {
      const counts = await admin.query<{ records: string; approvals: string; keys: string }>(
        `SELECT (SELECT COUNT(*) FROM ${db.schema}.audit_records) AS records,
                (SELECT COUNT(*) FROM ${db.schema}.approvals) AS approvals,
                (SELECT COUNT(*) FROM ${db.schema}.api_keys) AS keys`,
      );
      assert.ok(Number(counts.rows[0]!.records) >= 6);
      assert.equal(
        Number(counts.rows[0]!.approvals),
        2,
        'the used one, and the one the third call asked for',
      );
      assert.ok(Number(counts.rows[0]!.keys) >= 1);
    } finally {
      await admin.end();
    }

    const verify = await runCli(['audit', 'verify', '--data-dir', t.dataDir]);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout, /intact/i);

    const dry = await runCli(['migrate', '--dry-run', '--json', '--data-dir', t.dataDir]);
    assert.equal(dry.code, 0, dry.stderr);
    const steps = (JSON.parse(dry.stdout) as { steps: { component: string; from: number; to: number }[] })
      .steps;
    assert.deepEqual(steps.map((s) => s.component).sort(), ['audit', 'core', 'oauth', 'users']);
    assert.ok(
      steps.every((s) => s.from === s.to),
      'nothing pending on a started gateway',
    );

    const doctor = await runCli(['doctor', '--json', '--data-dir', t.dataDir]);
    const report = JSON.parse(doctor.stdout) as {
      storage: Record<string, any>;
      process: { uid: number; rootWarning: string | null };
    };
    const storage = report.storage;
    // CI runs as root: doctor says so, as start does, without refusing.
    assert.equal(report.process.uid, process.getuid!());
    assert.equal(report.process.rootWarning !== null, process.getuid!() === 0);
    assert.equal(storage.driver, 'postgres');
    assert.equal(storage.write.superuser, false);
    assert.equal(storage.read.canWrite, false, 'the read role has SELECT only');
    assert.equal(storage.read.readOnlyTransactions, true);
  });

  it('deletes a person with their key, upstream connection and setup link, and nobody else', async () => {
    const cli = (...args: string[]) => runCli([...args, '--data-dir', t.dataDir]);
    for (const name of ['dora', 'eve']) assert.equal((await cli('users', 'add', name)).code, 0);
    const dora = await t.key({ owner: 'dora', tenant: 'dora' });
    const eve = await t.key({ owner: 'eve', tenant: 'eve' });
    const storage = await openPostgresStorage(db.config);
    const oauth = await openPostgresOAuthDatabase(db.config);
    try {
      for (const subject of ['dora', 'eve']) {
        await storage.connections.put({
          id: `conn_${subject.padEnd(16, 'x')}`,
          tenant: subject,
          subject,
          upstream: 'crm',
          mode: 'person-secret',
          state: 'connected',
          upstreamSubject: null,
          scopes: [],
          createdAt: new Date(),
          lastUsedAt: null,
          expiresAt: null,
          brokenReason: null,
          sealed: 'v1.not-a-real-sealed-value',
        });
        await oauth.users.createSetupLink({
          tokenHash: `link-${subject}`,
          userName: subject,
          createdAt: new Date(),
          expiresAt: new Date(Date.now() + 600_000),
        });
      }

      const done = await cli('users', 'delete', 'dora', '--yes');
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /Deleted dora/);
      assert.equal(
        (await postMcp(t.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { key: dora.key })).status,
        401,
      );
      assert.equal(
        (await postMcp(t.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { key: eve.key })).status,
        200,
      );
      assert.equal(await oauth.users.find('dora'), undefined);
      assert.equal(await oauth.users.findSetupLink('link-dora', new Date()), undefined);
      assert.equal((await oauth.users.findSetupLink('link-eve', new Date()))?.userName, 'eve');
      assert.deepEqual(
        (await storage.connections.list({})).map((c) => c.subject),
        ['eve'],
      );
      const audit = await cli('audit', 'query', '--json', '--reason', 'user-deleted');
      assert.equal(audit.code, 0, audit.stderr);
      assert.match(audit.stdout, /user-deleted/);
      const verify = await cli('audit', 'verify');
      assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    } finally {
      await storage.close();
      await oauth.close();
    }
  });
});
