import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CHECK_IDS } from '../../src/scan/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';
import { atLeast, reportSchema, ROOT, scanJson } from '../helpers/scan.js';
import {
  PLANTED_TOKEN,
  startVulnerableServer,
  type VulnerableServer,
} from '../fixtures/scan-vulnerable-server.js';

describe('portcullis scan of a deliberately vulnerable server', () => {
  let server: VulnerableServer;
  before(async () => {
    server = await startVulnerableServer();
  });
  after(() => server.close());

  it('finds every planted weakness at its severity, and nothing else at high or above', async () => {
    const { code, report } = await scanJson([server.url, '--active']);
    assert.equal(code, 1);
    assert.deepEqual(atLeast(report, ['critical', 'high']), [
      'critical auth/no-credential-required',
      'critical poisoning/injection search_docs',
      'high authz/destructive-marked-read-only delete_all_orders',
      'high drift/listing-changed lookup_order',
      'high secrets/in-definition status',
      'high tools/generic-execution run_sql',
      'high transport/foreign-origin-accepted',
    ]);
    const medium = atLeast(report, ['medium']);
    for (const planted of [
      'medium tools/schema-accepts-anything anything',
      'medium transport/weak-session-id',
      'medium transport/wildcard-cors',
      'medium validation/error-leaks-internals lookup_order',
      'medium ratelimit/no-limit',
    ]) {
      assert.ok(medium.includes(planted), `${planted} missing from ${medium.join(', ')}`);
    }
    assert.equal(report.targets[0].protocolVersion, '2025-11-25');
    assert.equal(report.mode, 'active');
  });

  it('calls only tools that are read-only by annotation and by name, and only in --active', async () => {
    server.calls.length = 0;
    await scanJson([server.url]);
    assert.equal(server.calls.length, 0, 'a passive scan called a tool');
    await scanJson([server.url, '--active']);
    const called = new Set(server.calls.map((c) => c.name));
    assert.ok(called.size > 0, 'the active scan probed nothing');
    for (const never of ['delete_all_orders', 'run_sql', 'anything'])
      assert.ok(!called.has(never), `${never} was called`);
    assert.ok(server.calls.length <= 5 + 200, `${server.calls.length} calls`);
  });

  it('never prints the leaked token, in the human report or the JSON', async () => {
    const human = await runCli(['scan', server.url, '--quiet']);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /github-token at \$\.description \(value not shown\)/);
    const { stdout } = await scanJson([server.url]);
    for (const out of [human.stdout, human.stderr, stdout]) assert.ok(!out.includes(PLANTED_TOKEN));
  });

  it('reports a definition changed since the baseline as a rug pull', async () => {
    const dir = tempDir('portcullis-scan-');
    const baseline = path.join(dir, 'baseline.json');
    const first = await runCli(['scan', server.url, '--json', '--output', baseline, '--quiet']);
    assert.equal(first.code, 1, first.stderr);
    const same = await scanJson([server.url, '--baseline', baseline]);
    assert.deepEqual(
      same.report.findings.filter((f: any) => f.check.startsWith('drift/')),
      [],
    );
    server.pullRug();
    const { report } = await scanJson([server.url, '--baseline', baseline]);
    const drift = report.findings.filter((f: any) => f.check.startsWith('drift/'));
    assert.deepEqual(
      drift.map((f: any) => `${f.severity} ${f.check} ${f.location.name}`),
      ['high drift/changed-since-baseline lookup_order'],
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('the SARIF output', () => {
  let server: VulnerableServer;
  before(async () => {
    server = await startVulnerableServer();
  });
  after(() => server.close());

  it('validates with the SARIF multitool and carries one result per finding', async () => {
    const dir = tempDir('portcullis-sarif-');
    const file = path.join(dir, 'scan.sarif');
    const r = await runCli(['scan', server.url, '--sarif', '--output', file, '--quiet']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /Summary: 2 critical/);
    const sarif = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(sarif.version, '2.1.0');
    const run = sarif.runs[0];
    assert.equal(run.tool.driver.rules.length, CHECK_IDS.length);
    assert.ok(run.results.length > 10);
    for (const result of run.results) {
      assert.equal(run.tool.driver.rules[result.ruleIndex].id, result.ruleId);
      assert.ok(['error', 'warning', 'note'].includes(result.level));
      assert.ok(result.locations[0].physicalLocation.artifactLocation.uri);
    }
    const tool = path.join(ROOT, 'node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool');
    const out = path.join(dir, 'validation.sarif');
    const { stdout } = await promisify(execFile)(
      tool,
      ['validate', file, '--output', out, '--log', 'ForceOverwrite'],
      {
        env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1' },
      },
    );
    assert.match(stdout, /Analysis completed successfully/);
    const validation = JSON.parse(fs.readFileSync(out, 'utf8'));
    const errors = validation.runs[0].results.filter((x: any) => x.level === 'error');
    assert.deepEqual(errors, []);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the published JSON schema and docs/scanner.md name every check the scanner has', () => {
    assert.deepEqual(reportSchema.$defs.finding.properties.check.enum, CHECK_IDS);
    const docs = fs.readFileSync(path.join(ROOT, 'docs/scanner.md'), 'utf8');
    assert.deepEqual(
      CHECK_IDS.filter((id) => !docs.split('\n').some((line) => line.startsWith(`| \`${id}\` `))),
      [],
    );
  });
});
