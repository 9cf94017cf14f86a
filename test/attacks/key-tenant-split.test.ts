import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { codeFlow, registerClient } from '../helpers/oauth-gateway.js';
import { approvalLink, decideOnPage } from '../helpers/policy-approval.js';
import { modernCall, textOf } from '../helpers/policy-clients.js';

const DANA = { name: 'dana', password: 'dana password, long enough' };
const SCOPES = 'memory:read,memory:write,memory:delete';

/**
 * A red-team finding on issue 10: `keys create --owner dana` gave the key the tenant `dana` even
 * when dana is a person whose tenant is `acme`. Her apps reached `acme` and her key `dana`: her
 * data split in two, and she could never approve her key's destructive calls (the approval page
 * accepts only the person of the call's own tenant). A known person's key now takes her tenant.
 */
describe('attack: an API key whose tenant differs from its owner’s', () => {
  let t: TestGateway;
  let key: string;
  let keyTenant: string;
  before(async () => {
    t = await startTestGateway();
    const added = await runCli(
      ['users', 'add', DANA.name, '--tenant', 'acme', '--password-stdin', '--data-dir', t.dataDir],
      { input: DANA.password },
    );
    assert.equal(added.code, 0, added.stderr);
    const created = await runCli([
      'keys',
      'create',
      '--owner',
      DANA.name,
      '--scopes',
      SCOPES,
      '--json',
      '--data-dir',
      t.dataDir,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const made = JSON.parse(created.stdout) as { key: string; tenant: string };
    key = made.key;
    keyTenant = made.tenant;
  });
  after(() => t.close());

  it('her key reaches the tenant of the person it acts for', () => {
    assert.equal(keyTenant, 'acme');
  });

  it('her key and her OAuth token see the same notes', async () => {
    const origin = t.gw.url.origin;
    const client = await registerClient(origin, { client_name: 'Notes app' });
    const token = await codeFlow(origin, new TestBrowser(origin), client, {
      scope: 'memory:read memory:write',
      resource: t.url,
      person: DANA,
    });
    const byApp = await modernCall(t.url, token.access_token, 'memory_save', { content: 'saved by the app' });
    const appNote = byApp.result.structuredContent.id as string;
    const byKey = await modernCall(t.url, key, 'memory_save', { content: 'saved with the key' });
    const keyNote = byKey.result.structuredContent.id as string;

    const readByKey = await modernCall(t.url, key, 'memory_get', { id: appNote });
    assert.notEqual(readByKey.result.isError, true, textOf(readByKey.result));
    const readByApp = await modernCall(t.url, token.access_token, 'memory_get', { id: keyNote });
    assert.notEqual(readByApp.result.isError, true, textOf(readByApp.result));
  });

  it('she approves her key’s pending destructive call on the approval page', async () => {
    const saved = await modernCall(t.url, key, 'memory_save', { content: 'to be deleted' });
    const id = saved.result.structuredContent.id as string;
    const asked = await modernCall(t.url, key, 'memory_delete', { id });
    assert.equal(asked.result.isError, true);
    const link = approvalLink(textOf(asked.result));
    const page = await decideOnPage(new TestBrowser(t.gw.url.origin), link.url, DANA, 'approve');
    assert.equal(page.status, 200, page.body.slice(0, 300));
    assert.match(page.body, /You approved memory_delete/);
    const retried = await modernCall(t.url, key, 'memory_delete', { id });
    assert.deepEqual(retried.result.structuredContent, { deleted: true }, textOf(retried.result));
  });

  it('an explicit --tenant that contradicts the person’s tenant is a usage error', async () => {
    const r = await runCli([
      'keys',
      'create',
      '--owner',
      DANA.name,
      '--tenant',
      'dana',
      '--scopes',
      SCOPES,
      '--data-dir',
      t.dataDir,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /tenant acme/);
  });

  it('a key for an owner who is no person keeps the owner as its tenant', async () => {
    const r = await runCli([
      'keys',
      'create',
      '--owner',
      'ci-bot',
      '--scopes',
      SCOPES,
      '--json',
      '--data-dir',
      t.dataDir,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { tenant: string }).tenant, 'ci-bot');
  });
});
