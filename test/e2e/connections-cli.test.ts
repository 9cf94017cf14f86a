import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { KEYED_SERVER, keyLabel, pasteKey, signedInOnConnections } from '../helpers/connections.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { call, connectClient, NODE, textOf, upstreamsConfig } from '../helpers/upstream-servers.js';

const KEY = `alice-${'e5'.repeat(12)}`;

/**
 * The operator's side of people's connections: `connections list` and `revoke`, and
 * `keys rotate-vault` between two starts, after which alice's connection still works; a wrong
 * key-encryption key stops the start with a clear error.
 */
describe('connections from the command line, and vault key rotation across restarts', () => {
  const dataDir = tempDir();
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  /** Starts the gateway on the data dir (kept across starts) and returns alice's whoami. */
  async function aliceWhoami(t: TestGateway): Promise<string> {
    const client = await connectClient(t.url, (await t.key({ owner: 'alice', scopes: ['crm:read'] })).key);
    try {
      return textOf(await call(client, 'crm__whoami'));
    } finally {
      await client.close();
    }
  }
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir]);

  it('lists, rotates, survives a restart, refuses a wrong KEK, and revokes', async () => {
    let t = await startTestGateway({
      dataDir,
      config: upstreamsConfig([
        {
          name: 'crm',
          stdio: { command: NODE, args: [KEYED_SERVER] },
          auth: { mode: 'person-secret', env: 'KEYED_KEY', label: 'your CRM key' },
          pinning: 'trust-on-first-use',
          tools: { '*': { class: 'read' } },
        },
      ]),
    });
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'alice password 1');
    await db.close();
    const browser = await signedInOnConnections(new URL(t.url).origin, {
      name: 'alice',
      password: 'alice password 1',
    });
    await pasteKey(browser, 'crm', KEY);
    assert.ok((await aliceWhoami(t)).startsWith(keyLabel(KEY)));
    await t.gw.close();

    const listed = await cli('connections', 'list', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.user, 'alice');
    assert.equal(rows[0]!.upstream, 'crm');
    assert.equal(rows[0]!.state, 'connected');
    assert.ok(!listed.stdout.includes(KEY) && !listed.stdout.includes('sealed'));
    assert.equal((await cli('connections', 'list', '--upstream', 'other')).stdout, 'No connections.\n');

    const kekFile = path.join(dataDir, 'keys', 'connections-kek');
    const before = fs.readFileSync(kekFile, 'utf8');
    assert.equal(fs.statSync(kekFile).mode & 0o777, 0o600);
    const rotated = await cli('keys', 'rotate-vault');
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /Rotated the vault key/);
    assert.notEqual(fs.readFileSync(kekFile, 'utf8'), before);

    t = await startTestGateway({ dataDir });
    assert.ok((await aliceWhoami(t)).startsWith(keyLabel(KEY)), 'the connection works after rotation');
    await t.gw.close();

    const good = fs.readFileSync(kekFile);
    fs.writeFileSync(kekFile, `${randomBytes(32).toString('base64url')}\n`);
    await assert.rejects(startTestGateway({ dataDir }), /does not open the connections vault/);
    fs.writeFileSync(kekFile, good);

    assert.equal((await cli('connections', 'revoke', 'not-an-id')).code, 2);
    const revoked = await cli('connections', 'revoke', String(rows[0]!.id));
    assert.equal(revoked.code, 0, revoked.stderr);
    t = await startTestGateway({ dataDir });
    assert.match(await aliceWhoami(t), /not connected it yet/);
    await t.gw.close();
  });
});
