import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { CHECK_IDS } from '../../src/scan/index.js';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { addClient, openOAuthTables } from '../helpers/oauth-gateway.js';
import { NODE, REFERENCE_SERVERS } from '../helpers/upstream-servers.js';
import {
  PLANTED_TOKEN,
  startVulnerableServer,
  type VulnerableServer,
} from '../fixtures/scan-vulnerable-server.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;
const reportSchema = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/scan-report.schema.json'), 'utf8'));
const validateReport = addFormats(new Ajv2020({ strict: true, allErrors: true })).compile(reportSchema);

/** Runs `portcullis scan ARGS --json --quiet` and returns the exit code and the parsed report. */
async function scanJson(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const r = await runCli(['scan', '--json', '--quiet', ...args], { env });
  let report: any;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    assert.fail(`no JSON report (exit ${r.code}): ${r.stderr}\n${r.stdout.slice(0, 500)}`);
  }
  assert.ok(validateReport(JSON.parse(r.stdout)), JSON.stringify(validateReport.errors, null, 2));
  return { code: r.code, report, stdout: r.stdout, stderr: r.stderr };
}

const atLeast = (report: any, levels: string[]) =>
  report.findings
    .filter((f: any) => levels.includes(f.severity))
    .map((f: any) => `${f.severity} ${f.check}${f.location.name ? ` ${f.location.name}` : ''}`)
    .sort();

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
    // docs/scan.md explains it: web_fetch takes any URL by design; the egress guard enforces it.
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

describe('the exit code of portcullis scan, through the real process', () => {
  it('is 0 below --fail-on, 1 at or above it, 2 when the scan cannot be done', async () => {
    const everything = ['--stdio', '--', NODE, REFERENCE_SERVERS.everything];
    assert.equal((await runCli(['scan', '--quiet', ...everything])).code, 0);
    assert.equal((await runCli(['scan', '--quiet', '--fail-on', 'low', ...everything])).code, 1);
    const refused = await runCli(['scan', 'http://127.0.0.1:9/mcp', '--quiet']);
    assert.equal(refused.code, 2, refused.stdout);
    assert.match(refused.stdout, /scan failed/);
    const missing = await runCli(['scan', '--stdio', '--quiet', '--', '/nonexistent/server']);
    assert.equal(missing.code, 2);
    assert.equal((await runCli(['scan'])).code, 2);
    assert.equal((await runCli(['scan', 'ftp://example.com/mcp'])).code, 2);
    assert.equal((await runCli(['scan', 'http://127.0.0.1:9/mcp', '--fail-on', 'severe'])).code, 2);
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

  it('the published JSON schema and docs/scan.md name every check the scanner has', () => {
    assert.deepEqual(reportSchema.$defs.finding.properties.check.enum, CHECK_IDS);
    const docs = fs.readFileSync(path.join(ROOT, 'docs/scan.md'), 'utf8');
    assert.deepEqual(
      CHECK_IDS.filter((id) => !docs.split('\n').some((line) => line.startsWith(`| \`${id}\` `))),
      [],
    );
  });
});
