import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';

const dirs: string[] = [];
const fresh = () => {
  const d = tempDir('portcullis-cli-');
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('portcullis users reset-link', () => {
  it('users reset-link makes a new one-time link and the old one stops working', async () => {
    const dir = path.join(fresh(), 'data');
    const { child, banner } = await startCli(['--data-dir', dir, '--port', '0']);
    try {
      const first = /(http:\/\/\S+\/setup\/psl_[A-Za-z0-9_-]{43})\n/.exec(banner)![1]!;
      const origin = new URL(first).origin;
      const r = await runCli(['users', 'reset-link', 'admin', '--url', origin, '--data-dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      const next = /(http:\/\/\S+\/setup\/psl_[A-Za-z0-9_-]{43})\n/.exec(r.stdout)?.[1];
      assert.ok(next?.startsWith(origin), r.stdout);
      assert.equal((await fetch(first)).status, 404, 'the first link stopped working');
      assert.equal((await fetch(next!)).status, 200);
      const unknown = await runCli(['users', 'reset-link', 'nobody', '--data-dir', dir]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /no user named nobody/);
      const audit = await runCli([
        'audit',
        'query',
        '--reason',
        'setup-link-created',
        '--json',
        '--data-dir',
        dir,
      ]);
      assert.equal(audit.stdout.trim().split('\n').length, 1, 'the new link is on the record');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
