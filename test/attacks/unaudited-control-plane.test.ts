import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditRecord } from '../../src/audit/index.js';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { runCli } from '../helpers/cli.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import { addUser, codeFlow, openOAuthTables, registerClient } from '../helpers/oauth-gateway.js';
import { eventually, MALICIOUS_SERVER, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

/**
 * An insider (or someone holding an admin key or the operator's shell) changes what the gateway
 * lets through — mints a key, adds a client, approves a tool definition, reads the audit log —
 * and nothing in the audit chain says so. Every control-plane action must land in the same
 * chain as the tool calls, naming who did it, and appending from the CLI while the gateway runs
 * must neither fork nor break that chain nor fail the gateway's own appends.
 */
describe('control-plane actions in the audit chain', () => {
  let t: TestGateway;
  let db: OAuthDatabase;
  let origin: string;
  const cliUser = `cli:${os.userInfo().username}`;
  const alice = { name: 'alice', password: 'correct horse battery' };

  const cli = async (...args: string[]) => {
    const r = await runCli([...args, '--data-dir', t.dataDir]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const all = (): Promise<AuditRecord[]> => t.audit.log.query({ limit: 100_000 });
  const withReason = async (reason: string) => (await all()).filter((r) => r.reasons.includes(reason));

  before(async () => {
    t = await startTestGateway({
      config: upstreamsConfig([
        {
          name: 'tools',
          stdio: { command: NODE, args: [MALICIOUS_SERVER] },
          // The fixture imports the SDK; node_modules may be a link to another checkout.
          sandbox: {
            readable: [fs.realpathSync(path.resolve(import.meta.dirname, '../../../node_modules'))],
          },
        },
      ]),
      env: {
        PORTCULLIS_RATE_LIMITS__CREDENTIAL__POINTS: '100000',
        PORTCULLIS_RATE_LIMITS__CONCURRENCY__MAX_IN_FLIGHT: '1000',
      },
    });
    origin = t.gw.url.origin;
    db = openOAuthTables(t);
    await addUser(db, alice.name, alice.password);
  });
  after(async () => {
    await db.close();
    await t.close();
  });

  it('records every CLI change with the operator as principal while the gateway keeps serving, and the chain verifies', async () => {
    const { key } = await t.key({ owner: 'alice' });
    // Tool calls keep the gateway appending the whole time the CLI appends from other processes.
    let stop = false;
    const failures: string[] = [];
    let calls = 0;
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const res = await postMcp(
          t.url,
          {
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'memory_save', arguments: { content: 'busy' } },
          },
          { key },
        );
        const rpc = await readRpc(res);
        calls += 1;
        if (res.status !== 200 || rpc.error) failures.push(`${res.status} ${JSON.stringify(rpc.error)}`);
      }
    });

    try {
      const created = JSON.parse(
        await cli('keys', 'create', '--owner', 'bob', '--scopes', 'memory:read', '--json'),
      ) as { id: string };
      await cli('keys', 'revoke', created.id);
      await cli('keys', 'rotate-signing');
      const client = JSON.parse(
        await cli(
          'clients',
          'create',
          '--name',
          'Nightly job',
          '--grant',
          'client_credentials',
          '--scopes',
          'memory:read',
          '--json',
        ),
      ) as { client_id: string };
      await cli('clients', 'revoke', client.client_id);
      await eventually(async () => {
        const listed = await runCli(['pins', 'list', '--data-dir', t.dataDir]);
        return /tools\s+echo\s+pending/.test(listed.stdout) ? true : undefined;
      }, 'the upstream definitions to be observed');
      await cli('pins', 'approve', 'tools', 'echo');
      await cli('pins', 'reject', 'tools', 'search');

      const check = async (reason: string, match: (r: AuditRecord) => boolean) => {
        const found = (await withReason(reason)).filter(match);
        assert.equal(found.length, 1, `one ${reason} record`);
        const [r] = found as [AuditRecord];
        assert.equal(r.event, 'admin');
        assert.equal(r.principal, cliUser);
        assert.equal(r.decision, 'allow');
        assert.equal(r.outcome, 'ok');
        assert.equal(r.tool, undefined);
        return r;
      };
      await check('key-created', (r) => r.credentialId === created.id);
      await check('key-revoked', (r) => r.credentialId === created.id);
      await check('signing-key-rotated', () => true);
      await check('client-created', (r) => r.clientId === client.client_id);
      await check('client-revoked', (r) => r.clientId === client.client_id);
      await check('pin-approved', (r) => r.upstream === 'tools');
      await check('pin-rejected', (r) => r.upstream === 'tools');
    } finally {
      stop = true;
      await Promise.all(load);
    }
    assert.ok(calls > 0);
    assert.deepEqual(failures, [], 'no tool call failed while the CLI appended');

    const records = await all();
    const verified = await runCli(['audit', 'verify', '--data-dir', t.dataDir]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, new RegExp(`intact: ${records.length} records`));
  });

  it('records admin API reads with what was asked, and every denial, including a missing scope', async () => {
    const admin = await t.key({ owner: 'auditor', scopes: ['admin:audit'] });
    const user = await t.key({ owner: 'carol' });
    const get = (query: string, key?: string) =>
      fetch(new URL(`/admin/audit${query}`, t.url), {
        headers: key ? { authorization: `Bearer ${key}` } : {},
      });

    assert.equal((await get('?principal=carol&since=1h', admin.key)).status, 200);
    const [read] = await withReason('admin-read');
    assert.ok(read);
    assert.equal(read.event, 'admin');
    assert.equal(read.principal, 'auditor');
    assert.equal(read.credentialId, admin.id);
    assert.equal(read.decision, 'allow');
    assert.equal(read.outcome, 'ok');
    assert.deepEqual(read.args?.payload, { principal: 'carol', since: '1h' });

    assert.equal((await get('', user.key)).status, 403);
    assert.equal((await get('')).status, 401);
    const denied = await withReason('admin-denied');
    const scope = denied.find((r) => r.principal === 'carol');
    assert.ok(scope, 'the missing-scope denial names who asked');
    assert.equal(scope.decision, 'deny');
    assert.equal(scope.outcome, 'denied');
    assert.equal(scope.scope, 'admin:audit');
    assert.ok(denied.some((r) => r.outcome === 'unauthenticated' && r.principal === undefined));
  });

  it('records a person disconnecting an app on the connected-apps page and the operator revoking a grant', async () => {
    const resource = t.url;
    const first = await registerClient(origin, { client_name: 'Disconnect me' });
    const browser = new TestBrowser(origin);
    await codeFlow(origin, browser, first, { scope: 'memory:read', resource, person: alice });
    const apps = await browser.navigate('/account');
    const { csrf, action } = formOf(apps.body.slice(apps.body.indexOf('Disconnect me')));
    const done = await browser.navigate(action, { form: { csrf } });
    assert.match(done.body, /Disconnected/);
    const byPerson = (await withReason('grant-revoked')).find((r) => r.clientId === first.clientId);
    assert.ok(byPerson, 'the disconnection is recorded');
    assert.equal(byPerson.principal, 'alice');
    assert.equal(byPerson.event, 'admin');

    const second = await registerClient(origin, { client_name: 'Revoke me' });
    await codeFlow(origin, new TestBrowser(origin), second, {
      scope: 'memory:read',
      resource,
      person: alice,
    });
    const [grant] = (await db.oauth.listGrants({ accountId: 'alice' }, new Date())).filter(
      (g) => g.clientId === second.clientId,
    );
    assert.ok(grant);
    await cli('grants', 'revoke', grant.id);
    const byOperator = (await withReason('grant-revoked')).find((r) => r.clientId === second.clientId);
    assert.ok(byOperator, 'the operator revocation is recorded');
    assert.equal(byOperator.principal, cliUser);
    assert.equal(byOperator.credentialId, grant.id);
  });
});
