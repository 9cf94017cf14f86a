import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { postMcp, startTestGateway, tempDir } from '../helpers/gateway.js';

/**
 * Scripts and CI trust the exit code of `portcullis`: a nightly `portcullis audit verify && echo
 * ok` must not say "ok" over a tampered log. Every command that can fail is run here as the real
 * `bin/portcullis` process, and its exit status is what the operating system reports.
 */
describe('the exit status of every command that can fail', () => {
  let dataDir: string;
  const dirs: string[] = [];
  const fresh = () => {
    const d = tempDir('portcullis-exit-');
    dirs.push(d);
    return d;
  };

  before(async () => {
    dataDir = fresh();
    const t = await startTestGateway({ dataDir });
    const { key } = await t.key();
    for (let i = 0; i < 3; i++) {
      const res = await postMcp(
        t.url,
        {
          jsonrpc: '2.0',
          id: i,
          method: 'tools/call',
          params: { name: 'memory_save', arguments: { content: 'n' } },
        },
        { key },
      );
      await res.text();
    }
    await t.gw.close();
  });
  after(() => dirs.concat(dataDir).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('audit verify exits 0 on an intact log and 1 on a tampered one', async () => {
    const intact = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(intact.code, 0, intact.stderr);
    assert.match(intact.stdout, /audit log intact/);

    const copy = fresh();
    fs.cpSync(dataDir, copy, { recursive: true });
    const db = new Database(path.join(copy, 'audit.db'));
    db.prepare("UPDATE audit_records SET outcome = 'denied' WHERE seq = 2").run();
    db.close();
    const broken = await runCli(['audit', 'verify', '--data-dir', copy]);
    assert.match(broken.stdout, /audit log BROKEN at seq 2/);
    assert.equal(broken.code, 1);
  });

  it('doctor exits 1 when the gateway would refuse its configuration, and 0 otherwise', async () => {
    const ok = await runCli(['doctor', '--data-dir', dataDir]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);

    const dir = fresh();
    assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
    fs.appendFileSync(path.join(dir, 'portcullis.yaml'), '\nserver:\n  host: 0.0.0.0\n');
    const refused = await runCli(['doctor', '--data-dir', dir]);
    assert.match(refused.stdout, /Refusing to serve plain HTTP/);
    assert.equal(refused.code, 1);
    const json = await runCli(['doctor', '--json', '--data-dir', dir]);
    assert.equal(json.code, 1);
  });

  it('inspect exits 1 when a line is malformed, and 0 when all are well formed', async () => {
    const good = await runCli(['inspect'], { input: '{"text":"hello"}\n' });
    assert.equal(good.code, 0, good.stderr);
    const bad = await runCli(['inspect'], { input: '{"text":"hello"}\n{broken\n' });
    assert.equal(bad.stdout.trim().split('\n').length, 2);
    assert.equal(bad.code, 1);
  });

  it('usage errors and unknown commands exit 2', async () => {
    for (const args of [
      ['no-such-command'],
      ['audit', 'no-such-subcommand'],
      ['keys', 'create', '--owner', 'a', '--scopes', 'not a scope', '--data-dir', dataDir],
      ['audit', 'query', '--since', 'last tuesday', '--data-dir', dataDir],
      ['audit', 'verify', '--data-dir', path.join(fresh(), 'nothing-here')],
      ['inspect', '--kind', 'poem'],
      ['start', '--port', '80a', '--data-dir', fresh()],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.notEqual(r.stderr, '', `${args.join(' ')} says what was wrong`);
    }
  });

  it('help and version exit 0', async () => {
    for (const args of [['--help'], ['--version'], ['audit', 'verify', '--help']]) {
      assert.equal((await runCli(args)).code, 0, args.join(' '));
    }
  });
});
