import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { postMcp, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { codeFlow, registerClient, tokenRequest } from '../helpers/oauth-gateway.js';

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

describe('OAuth administration from the command line, beside a running gateway', () => {
  let dir: string;
  let t: TestGateway;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dir]);
  before(async () => {
    dir = tempDir();
    assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
    t = await startTestGateway({ dataDir: dir });
  });
  after(() => t.close());

  it('users add reads the password from stdin, and list never shows it', async () => {
    const added = await runCli(['users', 'add', 'carol', '--password-stdin', '--data-dir', dir], {
      input: 'a long enough password\n',
    });
    assert.equal(added.code, 0, added.stderr);
    const generated = await cli('users', 'add', 'dave');
    assert.equal(generated.code, 0);
    assert.match(generated.stdout, /shown only this once:\n\n {2}\S{20}\n/);
    const short = await runCli(['users', 'add', 'eve', '--password-stdin', '--data-dir', dir], {
      input: 'short\n',
    });
    assert.equal(short.code, 2);
    const listed = await cli('users', 'list', '--json');
    const users = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      users.map((u) => [u.name, u.kind, u.role, u.status]),
      [
        ['carol', 'local', 'member', 'active'],
        ['dave', 'local', 'member', 'active'],
      ],
    );
    assert.doesNotMatch(listed.stdout, /scrypt|password/i);
    // Each change is an `admin` record in the gateway's own chain, naming who made it; the
    // refused one left none.
    const records = (await t.audit.log.query({ limit: 1000 })).filter((r) => r.reasons[0] === 'user-added');
    assert.deepEqual(
      records.map((r) => [r.event, r.args?.payload]),
      [
        ['admin', { user: 'carol', role: 'member' }],
        ['admin', { user: 'dave', role: 'member' }],
      ],
    );
    assert.ok(records.every((r) => /^cli:/.test(r.principal ?? '')));
  });

  it('clients create prints the secret once; revoking the client stops its token at the next call', async () => {
    const created = await cli(
      'clients',
      'create',
      '--name',
      'Nightly job',
      '--grant',
      'client_credentials',
      '--scopes',
      'memory:read',
      '--json',
    );
    assert.equal(created.code, 0, created.stderr);
    const { client_id, client_secret } = JSON.parse(created.stdout);
    assert.match(client_id, /^pcc_/);
    const listed = await cli('clients', 'list');
    assert.match(listed.stdout, /Nightly job/);
    assert.doesNotMatch(listed.stdout, new RegExp(client_secret));

    const token = await tokenRequest(
      t.gw.url.origin,
      { grant_type: 'client_credentials', scope: 'memory:read', resource: t.url },
      { authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}` },
    );
    assert.equal(token.status, 200);
    assert.equal((await postMcp(t.url, list, { key: token.body.access_token })).status, 200);
    assert.equal((await cli('clients', 'revoke', client_id)).code, 0);
    assert.equal((await postMcp(t.url, list, { key: token.body.access_token })).status, 401);
  });

  it('refuses clients that would be unsafe', async () => {
    const plainHttp = await cli(
      'clients',
      'create',
      '--name',
      'x',
      '--grant',
      'authorization_code',
      '--scopes',
      'memory:read',
      '--redirect-uri',
      'http://app.example/cb',
    );
    assert.equal(plainHttp.code, 2);
    assert.match(plainHttp.stderr, /https/);
    const noRedirect = await cli(
      'clients',
      'create',
      '--name',
      'x',
      '--grant',
      'authorization_code',
      '--scopes',
      'memory:read',
    );
    assert.equal(noRedirect.code, 2);
  });

  it('grants list and grants revoke; users disable withdraws every grant', async () => {
    const client = await registerClient(t.gw.url.origin, { client_name: 'Carol’s app' });
    const tokens = await codeFlow(t.gw.url.origin, new TestBrowser(t.gw.url.origin), client, {
      scope: 'memory:read',
      resource: t.url,
      person: { name: 'carol', password: 'a long enough password' },
    });
    const grants = (await cli('grants', 'list', '--user', 'carol', '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(grants.length, 1);
    assert.equal(grants[0].clientId, client.clientId);
    assert.deepEqual(grants[0].scopes, ['memory:read']);
    // Grant ids are oidc-provider's base64url and may begin with '-', which a shell parser takes
    // for an option: such a value goes after `--`, and the refusal says so.
    const dashed = await runCli(['grants', 'revoke', '--data-dir', dir, '-not-an-option']);
    assert.equal(dashed.code, 2);
    assert.match(dashed.stderr, /begins with '-'.*after '--'/s);
    const revoked = await runCli(['grants', 'revoke', '--data-dir', dir, '--', grants[0].id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await postMcp(t.url, list, { key: tokens.access_token })).status, 401);

    const again = await codeFlow(t.gw.url.origin, new TestBrowser(t.gw.url.origin), client, {
      scope: 'memory:read',
      resource: t.url,
      person: { name: 'carol', password: 'a long enough password' },
    });
    assert.equal((await postMcp(t.url, list, { key: again.access_token })).status, 200);
    assert.equal((await cli('users', 'disable', 'carol')).code, 0);
    const disabled = (await t.audit.log.query({ limit: 1000 })).filter(
      (r) => r.reasons[0] === 'user-disabled',
    );
    assert.deepEqual(
      disabled.map((r) => r.args?.payload),
      [{ user: 'carol' }],
    );
    assert.equal((await postMcp(t.url, list, { key: again.access_token })).status, 401);
    const relogin = new TestBrowser(t.gw.url.origin);
    await assert.rejects(
      codeFlow(t.gw.url.origin, relogin, client, {
        scope: 'memory:read',
        resource: t.url,
        person: { name: 'carol', password: 'a long enough password' },
      }),
      /do not match an active account/,
    );
  });

  it('keys rotate-signing adds a key and keeps the old one published', async () => {
    const file = path.join(dir, 'keys', 'signing-keys.json');
    const before = JSON.parse(fs.readFileSync(file, 'utf8')).keys;
    const rotated = await cli('keys', 'rotate-signing');
    assert.equal(rotated.code, 0, rotated.stderr);
    const after = JSON.parse(fs.readFileSync(file, 'utf8')).keys;
    assert.equal(after.length, before.length + 1);
    assert.equal(after[1].kid, before[0].kid);
    assert.ok(after[1].retiredAt);
    assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');
  });
});
