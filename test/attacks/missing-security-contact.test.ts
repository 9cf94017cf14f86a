import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';

/**
 * Someone who finds a hole in a deployment looks for /.well-known/security.txt (RFC 9116) to
 * report it. A default install served 404 there and never told the operator. The contact is set
 * at `init`, and its absence is said loudly at start and by `doctor`.
 */
describe('the security contact', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const d = tempDir('portcullis-contact-');
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  const securityTxt = async (dir: string) => {
    const { child, banner } = await startCli(['--data-dir', dir, '--port', '0']);
    try {
      const url = /MCP endpoint: (\S+)/.exec(banner)![1]!;
      const res = await fetch(new URL('/.well-known/security.txt', url));
      return { banner, status: res.status, body: await res.text() };
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  };

  it('a default install warns at start and in doctor that security.txt has no contact', async () => {
    const dir = fresh();
    assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
    const served = await securityTxt(dir);
    assert.equal(served.status, 404);
    assert.match(served.banner, /WARNING: .*no security contact/);
    const doctor = await runCli(['doctor', '--data-dir', dir]);
    assert.equal(doctor.code, 0, doctor.stderr);
    assert.match(doctor.stdout, /no security contact/);
  });

  it('init --security-contact publishes an RFC 9116 security.txt and silences the warning', async () => {
    const dir = fresh();
    const init = await runCli([
      'init',
      '--data-dir',
      dir,
      '--security-contact',
      'mailto:security@example.com',
      '--security-contact',
      'https://example.com/report',
    ]);
    assert.equal(init.code, 0, init.stderr);
    const served = await securityTxt(dir);
    assert.equal(served.status, 200);
    assert.match(
      served.body,
      /^Contact: mailto:security@example\.com\nContact: https:\/\/example\.com\/report\n/,
    );
    assert.match(served.body, /\nExpires: \d{4}-\d\d-\d\dT/);
    assert.doesNotMatch(served.banner, /security contact/);
    assert.doesNotMatch((await runCli(['doctor', '--data-dir', dir])).stdout, /no security contact/);
  });

  for (const bad of [
    'http://example.com/report',
    'javascript:alert(1)',
    'security@example.com',
    'mailto:',
    'https://',
  ]) {
    it(`init refuses the contact ${JSON.stringify(bad)} with exit code 2 and writes nothing`, async () => {
      const dir = path.join(fresh(), 'data');
      const r = await runCli(['init', '--data-dir', dir, '--security-contact', bad]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--security-contact/);
      assert.equal(fs.existsSync(path.join(dir, 'portcullis.yaml')), false);
    });
  }
});
