/* eslint-disable no-control-regex -- the test looks for escape sequences on stdout */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';
import { NODE } from '../helpers/upstream-servers.js';

/**
 * The scanner audits servers it does not trust, so the server is the attacker here: it tries to
 * drive the terminal of the person reading the report, to be called where it must not be, to
 * hang or exhaust the scanner, to talk the report into "clean", and to use the scanner to reach
 * internal addresses. Each attack must fail, and the scan beside it must still report.
 */

const HOSTILE = path.resolve(import.meta.dirname, '../fixtures/scan-hostile-server.js');
const stdio = (mode: string, ...extra: string[]) => ['--stdio', '--', NODE, HOSTILE, mode, ...extra];

describe('a hostile server against the scanner', () => {
  const dir = tempDir('portcullis-scan-attack-');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('cannot drive the terminal: names and descriptions are escaped, only the scanner’s own colours are raw', async () => {
    const r = await runCli(['scan', '--quiet', ...stdio('terminal')], { env: { FORCE_COLOR: '1' } });
    assert.equal(r.code, 1, r.stdout);
    // The only escape sequences on stdout are SGR colour codes from the printer's table.
    const sequences = r.stdout.match(/\x1b[^m]*m?/g) ?? [];
    assert.ok(sequences.length > 0, 'FORCE_COLOR gave no colour');
    for (const s of sequences) assert.match(s, /^\x1b\[[0-9]+m$/, JSON.stringify(s));
    assert.ok(!r.stdout.includes('\x07') && !r.stdout.includes('\r') && !r.stdout.includes('\u202e'));
    assert.match(r.stdout, /clip\\x1b\]52;c;cm0gLXJmIH4=\\x07board/);
    assert.match(r.stdout, /safe<U\+202E>exe\.fdp/);
    // The forged summary lines stay inside their evidence line, escaped; the real one says exit 1.
    const summaries = r.stdout.split('\n').filter((l) => /^(?:\x1b\[[0-9]+m)*Summary:/.test(l));
    assert.equal(summaries.length, 1);
    assert.match(summaries[0]!, /exit 1/);
    assert.match(r.stdout, /poisoning\/hidden-characters/);

    const json = await runCli(['scan', '--quiet', '--json', ...stdio('terminal')]);
    assert.ok(!/[\x1b\x07\r\u202e]/.test(json.stdout));
    assert.ok(JSON.parse(json.stdout).targets[0].inventory.some((i: any) => i.name.includes('\x1b]52')));
  });

  it('cannot talk the report into clean: the weaknesses beside “report no findings” are reported', async () => {
    const r = await runCli(['scan', '--quiet', '--json', ...stdio('fake-clean')]);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout);
    const seen = report.findings.map((f: any) => `${f.check} ${f.location.name ?? ''}`.trim());
    for (const expected of [
      'authz/destructive-marked-read-only wipe_disk',
      'secrets/in-definition notify',
      'poisoning/suspicious-text (instructions)',
    ]) {
      assert.ok(
        seen.some(
          (s: string) =>
            s === expected ||
            (expected.startsWith('poisoning') && s.startsWith('poisoning/') && s.endsWith('(instructions)')),
        ),
        `${expected} not in ${seen.join(', ')}`,
      );
    }
    assert.ok(report.summary.high >= 2);
  });

  it('cannot get a destructive or unannotated tool called, whatever its annotations claim', async () => {
    const record = path.join(dir, 'calls.txt');
    const r = await runCli([
      'scan',
      '--quiet',
      '--json',
      '--active',
      '--allow-write',
      dir,
      ...stdio('bait', '--record', record),
    ]);
    assert.notEqual(r.code, 2, r.stderr);
    const called = fs.existsSync(record) ? fs.readFileSync(record, 'utf8').trim().split('\n') : [];
    assert.deepEqual([...new Set(called)], ['list_files'], 'only the honest read-only tool may be probed');
    const report = JSON.parse(r.stdout);
    assert.ok(
      report.findings.some(
        (f: any) => f.check === 'authz/destructive-marked-read-only' && f.location.name === 'drop_tables',
      ),
    );
  });

  it('cannot hang the scan: a server that never answers ends in exit 2 within the deadline', async () => {
    const started = Date.now();
    const r = await runCli(['scan', '--quiet', '--timeout', '1', ...stdio('hang')]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /no answer within 1000 ms/);
    const list = await runCli(['scan', '--quiet', '--timeout', '1', ...stdio('hang-list')]);
    assert.equal(list.code, 2, 'a scan that never saw the tools must not pass as clean');
    const whole = await runCli([
      'scan',
      '--quiet',
      '--timeout',
      '5',
      '--deadline',
      '1',
      ...stdio('hang-list'),
    ]);
    assert.equal(whole.code, 2);
    assert.match(whole.stdout, /took longer than 1000 ms/);
    assert.ok(Date.now() - started < 30_000);
  });

  it('cannot blow the scanner’s memory: a 20 MiB line and endless pages end in a bounded, partial report', async () => {
    const r = await runCli(['scan', '--quiet', '--json', ...stdio('flood')], {
      env: { NODE_OPTIONS: '--max-old-space-size=96' },
    });
    assert.notEqual(r.code, 2, r.stderr.slice(0, 500));
    const report = JSON.parse(r.stdout);
    assert.ok(report.targets[0].inventory.length <= 1000);
    assert.ok(report.findings.some((f: any) => f.check === 'scan/partial'));
  });
});
