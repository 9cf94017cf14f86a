import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import pg from 'pg';
import { openPostgresOAuthDatabase } from '../../src/oauth/index.js';
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
    const storage = (JSON.parse(doctor.stdout) as { storage: Record<string, any> }).storage;
    assert.equal(storage.driver, 'postgres');
    assert.equal(storage.write.superuser, false);
    assert.equal(storage.read.canWrite, false, 'the read role has SELECT only');
    assert.equal(storage.read.readOnlyTransactions, true);
  });
});
