import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';

interface Report {
  keys: { key: string; source: string; problem?: string }[];
}

/** `doctor` names where each key comes from and flags key files others could read or replace. */
describe('doctor reports the keys', () => {
  it('names each key file of a fresh data dir, then the references a configuration sets', async () => {
    const dir = tempDir();
    assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
    const first = await runCli(['doctor', '--json', '--data-dir', dir]);
    const report = JSON.parse(first.stdout) as Report;
    const signing = report.keys.find((k) => k.key === 'token signing')!;
    assert.equal(signing.source, `file ${path.join('keys', 'signing-keys.json')}`);
    assert.equal(signing.problem, undefined);
    assert.match(report.keys.find((k) => k.key === 'audit signing')!.problem ?? '', /missing/);

    fs.appendFileSync(
      path.join(dir, 'portcullis.yaml'),
      '\nkeys:\n  tokenSigning: vault:secret/portcullis#signing\n  confirmation: env:PC_CONFIRMATION\n',
    );
    const value = 'c2VjcmV0LXZhbHVlLW9mLXRoZS1jb25maXJtYXRpb24ta2V5LTMyYg';
    const ran = await runCli(['doctor', '--json', '--data-dir', dir], { env: { PC_CONFIRMATION: value } });
    const again = JSON.parse(ran.stdout) as Report;
    assert.equal(
      again.keys.find((k) => k.key === 'token signing')!.source,
      'reference vault:secret/portcullis#signing',
    );
    assert.equal(again.keys.find((k) => k.key === 'confirmation')!.source, 'reference env:PC_CONFIRMATION');
    assert.ok(
      !ran.stdout.includes(value) && !ran.stderr.includes(value),
      'a reference is named, never resolved',
    );
  });

  it('a signing key file others can read fails doctor (start refuses it), naming the file', async () => {
    const dir = tempDir();
    assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
    fs.chmodSync(path.join(dir, 'keys', 'signing-keys.json'), 0o644);
    const res = await runCli(['doctor', '--data-dir', dir]);
    assert.equal(res.code, 1, res.stdout);
    assert.match(res.stdout, /token signing\s+file keys\/signing-keys\.json — WARNING: .*readable by others/);
  });
});
