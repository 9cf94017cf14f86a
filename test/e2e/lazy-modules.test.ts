import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { startInstalledGateway } from '../helpers/default-install.js';
import { tempDir } from '../helpers/gateway.js';

/**
 * A default install (SQLite, built-in OAuth, no federation, no upstreams) does not load what it
 * does not use: oidc-provider and Koa until the first OAuth request, pg, ioredis, openid-client
 * and undici not at all until something configured needs them. Seen from inside the real
 * `portcullis start` process: a module hook (`--import`, in-thread) writes down the package of
 * every module Node loads, ESM and CommonJS alike.
 */

const HOOK = `data:text/javascript,${encodeURIComponent(`
  import { appendFileSync } from 'node:fs';
  import { registerHooks } from 'node:module';
  const seen = new Set();
  registerHooks({
    load(url, context, next) {
      const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url);
      if (m && !seen.has(m[1])) {
        seen.add(m[1]);
        appendFileSync(process.env.MODULE_LOG_FILE, m[1] + '\\n');
      }
      return next(url, context);
    },
  });`)}`;

const NOT_AT_START = ['oidc-provider', 'koa', 'pg', 'ioredis', 'openid-client', 'undici'];

describe('the modules a default install loads', () => {
  let dataDir: string;
  let log: string;
  let origin: string;
  let stop: () => Promise<void>;
  const loaded = () => new Set(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean));

  before(async () => {
    dataDir = tempDir('portcullis-lazy-');
    log = path.join(tempDir('portcullis-lazy-log-'), 'modules.txt');
    fs.writeFileSync(log, '');
    const { child, banner } = await startCli(['--data-dir', dataDir, '--port', '0'], {
      NODE_OPTIONS: `--import=${HOOK}`,
      MODULE_LOG_FILE: log,
    });
    origin = new URL(/MCP endpoint: (\S+)/.exec(banner)![1]!).origin;
    stop = () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
  });
  after(async () => {
    await stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(path.dirname(log), { recursive: true, force: true });
  });

  it('loads no authorization server, PostgreSQL, Redis, OIDC client or undici at start', async () => {
    const prm = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`);
    assert.equal(prm.status, 200, 'the protected-resource metadata is answered without them');
    await prm.body?.cancel();
    const mods = loaded();
    assert.ok(
      mods.has('hono') && mods.has('jose'),
      `the hook sees the gateway's modules: ${[...mods].join(' ')}`,
    );
    for (const name of NOT_AT_START) assert.ok(!mods.has(name), `${name} is not loaded at start`);
  });

  it('loads oidc-provider with the first request to the authorization server', async () => {
    const res = await fetch(`${origin}/.well-known/oauth-authorization-server/oauth`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { issuer: string }).issuer, `${origin}/oauth`);
    const mods = loaded();
    assert.ok(mods.has('oidc-provider') && mods.has('koa'));
    for (const name of ['pg', 'ioredis', 'openid-client'])
      assert.ok(!mods.has(name), `${name} is still not loaded`);
  });
});

describe('a bad OAuth configuration with the authorization server built on first use', () => {
  it('still stops `portcullis start` at once, naming the setting', async () => {
    await assert.rejects(
      startInstalledGateway({ config: 'oauth:\n  registration:\n    policy: initial-access-token\n' }),
      /oauth\.registration\.initialAccessToken is required/,
    );
  });
});
