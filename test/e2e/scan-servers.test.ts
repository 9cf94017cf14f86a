import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { addClient, openOAuthTables } from '../helpers/oauth-gateway.js';
import { atLeast, scanJson } from '../helpers/scan.js';
import { NODE, REFERENCE_SERVERS } from '../helpers/upstream-servers.js';

describe('portcullis scan of the reference servers over stdio (sandboxed)', () => {
  const fsRoot = tempDir('portcullis-scan-fs-');
  after(() => fs.rmSync(fsRoot, { recursive: true, force: true }));

  for (const [name, args] of [
    ['everything', [REFERENCE_SERVERS.everything]],
    ['filesystem', [REFERENCE_SERVERS.filesystem, fsRoot]],
    ['memory', [REFERENCE_SERVERS.memory]],
  ] as const) {
    it(`${name}: lists its tools and reports nothing at high or above`, async () => {
      const extra = name === 'filesystem' ? ['--allow-read', fsRoot] : [];
      const { code, report } = await scanJson(['--stdio', ...extra, '--', NODE, ...args]);
      assert.equal(code, 0, JSON.stringify(report.targets[0].error ?? report.summary));
      const target = report.targets[0];
      assert.equal(target.listed, true);
      assert.ok(target.inventory.filter((i: any) => i.kind === 'tool').length >= 5);
      assert.deepEqual(atLeast(report, ['critical', 'high']), []);
      if (name === 'filesystem') {
        // Every path-taking tool is flagged; the server's own root check is invisible from outside.
        const flagged: string[] = report.findings
          .filter((f: any) => f.check === 'tools/arbitrary-target')
          .map((f: any) => f.location.name);
        assert.ok(flagged.includes('read_text_file') && flagged.includes('write_file'), flagged.join(', '));
      }
    });
  }
});

describe('portcullis scan of the Portcullis gateway itself', () => {
  let t: TestGateway;
  let key: string;
  before(async () => {
    // Each scan sends several refused requests (no credential, forged tokens); three scans from
    // one address would reach the failed-authentication block, which has its own tests.
    t = await startTestGateway({ env: { PORTCULLIS_RATE_LIMITS__FAILED_AUTH__POINTS: '1000' } });
    key = (await t.key()).key;
  });
  after(() => t.close());

  it('with its key: 2026-07-28, no high or critical finding, and only the explained mediums', async () => {
    const { code, report } = await scanJson([t.url, '--bearer-env', 'KEY', '--active'], { KEY: key });
    assert.equal(code, 0, JSON.stringify(report.findings, null, 2));
    assert.equal(report.targets[0].protocolVersion, '2026-07-28');
    assert.equal(report.targets[0].server.name, 'portcullis');
    assert.deepEqual(atLeast(report, ['critical', 'high']), []);
    // docs/scanner.md explains it: web_fetch takes any URL by design; the egress guard enforces it.
    assert.deepEqual(atLeast(report, ['medium']), ['medium tools/arbitrary-target web_fetch']);
  });

  it('with --client-credentials: logs in at the gateway’s own authorization server and lists what the client may', async () => {
    const db = openOAuthTables(t);
    const client = await addClient(db, { grant: 'client_credentials', scopes: ['memory:read'] });
    await db.close();
    const args = [t.url, '--client-credentials', client.clientId, '--secret-env', 'SECRET'];
    const { code, report, stdout } = await scanJson(args, { SECRET: client.clientSecret! });
    assert.equal(code, 0, JSON.stringify(report.findings, null, 2));
    const tools = report.targets[0].inventory
      .filter((i: any) => i.kind === 'tool')
      .map((i: any) => i.name)
      .sort();
    assert.deepEqual(tools, ['memory_get', 'memory_search']);
    assert.ok(!stdout.includes(client.clientSecret!));
    const wrong = await runCli(['scan', '--quiet', ...args], { env: { SECRET: 'not-the-secret' } });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stdout, /client-credentials token request was refused \(invalid_client\)/);
  });

  it('without a credential: the auth metadata passes and no forged token gets in', async () => {
    const { code, report } = await scanJson([t.url]);
    assert.equal(code, 0);
    assert.deepEqual(
      report.findings.map((f: any) => f.check),
      ['auth/open-registration', 'scan/credential-needed'],
    );
  });
});
