import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';

const dirs: string[] = [];
const fresh = () => {
  const d = tempDir('portcullis-cli-');
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('the portcullis command', () => {
  it('every command has --help', async () => {
    for (const args of [
      [],
      ['start'],
      ['init'],
      ['keys'],
      ['keys', 'create'],
      ['keys', 'list'],
      ['keys', 'revoke'],
      ['docs', 'config'],
    ]) {
      const r = await runCli([...args, '--help']);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /Usage: portcullis/);
      if (args.length > 0 && args[0] !== 'keys' && args[0] !== 'docs') assert.match(r.stdout, /--data-dir/);
    }
  });

  it('init writes a config and keys with private permissions, then refuses to overwrite', async () => {
    const dir = path.join(fresh(), 'data');
    const first = await runCli(['init', '--data-dir', dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, 'keys', 'signing-keys.json')).mode & 0o777, 0o600);
    const config = fs.readFileSync(path.join(dir, 'portcullis.yaml'), 'utf8');
    const again = await runCli(['init', '--data-dir', dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Refusing to overwrite/);
    assert.equal(fs.readFileSync(path.join(dir, 'portcullis.yaml'), 'utf8'), config);
  });

  it('PORTCULLIS_DATA_DIR selects the data directory', async () => {
    const dir = path.join(fresh(), 'env-data');
    const r = await runCli(['init'], { env: { PORTCULLIS_DATA_DIR: dir } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'portcullis.yaml')));
  });

  it('keys create, list and revoke; the key is printed once and never listed', async () => {
    const dir = fresh();
    assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
    const created = await runCli([
      'keys',
      'create',
      '--data-dir',
      dir,
      '--owner',
      'ci-bot',
      '--scopes',
      'memory:read',
      '--expires',
      '30d',
      '--name',
      'CI',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const obj = JSON.parse(created.stdout) as {
      id: string;
      key: string;
      scopes: string[];
      expiresAt: string;
    };
    assert.match(obj.key, /^pcs_/);
    assert.deepEqual(obj.scopes, ['memory:read']);
    assert.ok(new Date(obj.expiresAt).getTime() > Date.now() + 29 * 86_400_000);

    const listed = await runCli(['keys', 'list', '--data-dir', dir, '--json']);
    assert.equal(listed.code, 0);
    assert.ok(!listed.stdout.includes(obj.key.slice(-43)), 'the secret part never appears in a listing');
    assert.equal((JSON.parse(listed.stdout.trim()) as { status: string }).status, 'active');
    const table = await runCli(['keys', 'list', '--data-dir', dir]);
    assert.match(table.stdout, /ci-bot/);

    assert.equal((await runCli(['keys', 'revoke', obj.id, '--data-dir', dir])).code, 0);
    const after = await runCli(['keys', 'list', '--data-dir', dir, '--json']);
    assert.equal((JSON.parse(after.stdout.trim()) as { status: string }).status, 'revoked');
    const unknown = await runCli(['keys', 'revoke', 'nosuchkey', '--data-dir', dir]);
    assert.equal(unknown.code, 2);
  });

  for (const [what, args, message] of [
    ['an invalid scope', ['--owner', 'a', '--scopes', 'memory read'], /invalid scope/],
    ['no scopes', ['--owner', 'a', '--scopes', ','], /at least one scope/],
    ['a bad expiry', ['--owner', 'a', '--scopes', 'memory:read', '--expires', 'soon'], /invalid --expires/],
    ['a hostile owner name', ['--owner', '../../etc\n', '--scopes', 'memory:read'], /invalid --owner/],
    ['a missing owner', ['--scopes', 'memory:read'], /required option '--owner/],
  ] as const) {
    it(`keys create refuses ${what} with exit code 2`, async () => {
      const dir = fresh();
      await runCli(['init', '--data-dir', dir]);
      const r = await runCli(['keys', 'create', '--data-dir', dir, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    });
  }

  it('commands on an uninitialised directory say so', async () => {
    const r = await runCli(['keys', 'list', '--data-dir', path.join(fresh(), 'none')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not an initialised data directory/);
  });

  it('start refuses an invalid config, naming the path', async () => {
    const dir = fresh();
    await runCli(['init', '--data-dir', dir]);
    fs.writeFileSync(path.join(dir, 'portcullis.yaml'), 'server:\n  port: -1\n');
    const r = await runCli(['start', '--data-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /server\.port/);
  });

  it('start refuses plain HTTP on a non-loopback address', async () => {
    const dir = fresh();
    const r = await runCli(['start', '--data-dir', dir, '--host', '0.0.0.0', '--port', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Refusing to serve plain HTTP/);
  });

  it('start rejects a bad --port', async () => {
    const r = await runCli(['start', '--data-dir', fresh(), '--port', '80a']);
    assert.equal(r.code, 2);
  });

  it('the first start initialises, prints the endpoint, a working admin key once and a setup link', async () => {
    const dir = path.join(fresh(), 'data');
    const { child, banner } = await startCli(['--data-dir', dir, '--port', '0']);
    try {
      const url = /MCP endpoint: (\S+)/.exec(banner)![1]!;
      const key = /(pcs_[a-z0-9]{16}_[A-Za-z0-9_-]{43})/.exec(banner)![1]!;
      const setup = /(http:\/\/\S+\/setup\/psl_[A-Za-z0-9_-]{43})\n/.exec(banner)?.[1];
      assert.ok(setup, banner);
      assert.equal((await fetch(setup)).status, 200, 'the setup link opens the password form');
      // The key is printed once, labelled, and never inside a client snippet a scanner flags.
      assert.doesNotMatch(banner, /"mcpServers"|"Authorization"\s*:/);
      assert.equal(banner.split(key).length, 2);
      const client = new Client({ name: 'cli-test', version: '1' }, { versionNegotiation: { mode: 'auto' } });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${key}` } },
        }),
      );
      const saved = await client.callTool({
        name: 'memory_save',
        arguments: { content: 'hello from the first run' },
      });
      assert.ok(!saved.isError);
      const found = await client.callTool({ name: 'memory_search', arguments: { query: 'first run' } });
      assert.equal((found.structuredContent as { items: unknown[] }).items.length, 1);
      await client.close();
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    // The second start reuses the data directory and prints no new key.
    const second = await startCli(['--data-dir', dir, '--port', '0']);
    try {
      assert.doesNotMatch(second.banner, /pcs_/);
      assert.doesNotMatch(second.banner, /First start/);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
  });
});
