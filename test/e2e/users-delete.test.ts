import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openLocalStorage } from '../../src/cli/open-local.js';
import { runCli } from '../helpers/cli.js';
import { postMcp, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

/**
 * `portcullis users delete` (issue 13's erasure companion): the person goes with their sessions,
 * setup links, grants, API keys and upstream connections; another person's are untouched. It is
 * recorded before anything is removed, and says what it would do without --yes.
 */
describe('users delete removes a person with everything that acts for them', () => {
  let dir: string;
  let t: TestGateway;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dir]);

  before(async () => {
    dir = tempDir();
    assert.equal((await cli('init')).code, 0);
    for (const name of ['dora', 'eve']) assert.equal((await cli('users', 'add', name)).code, 0);
    t = await startTestGateway({ dataDir: dir });
  });
  after(() => t.close());

  it('revokes their keys, drops their connections, deletes the account, and leaves eve alone', async () => {
    const dora = await t.key({ owner: 'dora', tenant: 'dora' });
    // A key made under another tenant before the person existed is still the person's.
    const doraElsewhere = await t.key({ owner: 'dora', tenant: 'shared' });
    const eve = await t.key({ owner: 'eve', tenant: 'eve' });
    const storage = await openLocalStorage(dir);
    const connection = (subject: string) => ({
      id: `conn_${subject.padEnd(16, 'x')}`,
      tenant: subject,
      subject,
      upstream: 'crm',
      mode: 'person-secret' as const,
      state: 'connected' as const,
      upstreamSubject: null,
      scopes: [],
      createdAt: new Date(),
      lastUsedAt: null,
      expiresAt: null,
      brokenReason: null,
      sealed: 'v1.not-a-real-sealed-value',
    });
    await storage.connections.put(connection('dora'));
    await storage.connections.put(connection('eve'));
    await storage.close();

    const dry = await cli('users', 'delete', 'dora');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /Would delete dora with 0 grant\(s\), 2 API key\(s\) and 1 upstream connection\(s\)/,
    );
    assert.equal(
      (await postMcp(t.url, list, { key: dora.key })).status,
      200,
      'nothing removed by the dry run',
    );

    const done = await cli('users', 'delete', 'dora', '--yes');
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /Deleted dora/);
    assert.equal((await postMcp(t.url, list, { key: dora.key })).status, 401, "dora's key no longer works");
    assert.equal((await postMcp(t.url, list, { key: doraElsewhere.key })).status, 401, 'nor her other one');
    assert.equal((await postMcp(t.url, list, { key: eve.key })).status, 200, "eve's still does");

    const users = (await cli('users', 'list', '--json')).stdout;
    assert.doesNotMatch(users, /"dora"/);
    assert.match(users, /"eve"/);
    const conns = (await cli('connections', 'list', '--json')).stdout.trim().split('\n');
    assert.deepEqual(
      conns.map((l) => (JSON.parse(l) as { user: string }).user),
      ['eve'],
    );
    const audit = await cli('audit', 'query', '--json', '--reason', 'user-deleted');
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /user-deleted/);

    const again = await cli('users', 'delete', 'dora', '--yes');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no user named dora/);
  });
});
