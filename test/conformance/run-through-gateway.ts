// Runs the pinned @modelcontextprotocol/conformance server scenarios THROUGH a real gateway:
// the conformance fixture upstream (test/fixtures/conformance-server.ts) runs as a sandboxed
// stdio upstream of the gateway, and the suite, behind the API-key proxy (key-proxy.ts), speaks
// to the gateway's /mcp for both requirement sets. The fixture passes every scored scenario on
// its own (run-fixture.ts), so each failure here is the gateway's.
// Usage (after `npm run build`):
//   node dist/test/conformance/run-through-gateway.js [--requirements 2026-07-28|2025-11-25] [--policy-on]
// Results land in test-artifacts/conformance-gateway/<revision>/, with a per-scenario table in
// test-artifacts/conformance-gateway/RESULTS.md. A revision's known failures are listed with a
// reason each in gateway-expected-failures-<revision>.yaml and do not fail the run.
import fs from 'node:fs';
import path from 'node:path';
import { upstreamsConfigSchema } from '../../src/upstreams/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import { connectClient, eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';
import { ROOT } from './authorization-support.js';
import { startKeyProxy } from './key-proxy.js';
import { describeRun, REVISIONS, runServerSuite, type Revision, type SuiteRun } from './run-suite.js';

// --policy-on: the operator relays sampling, roots and URL elicitation too (they are off by
// default); only the scenarios the default policy refuses are run, and all must pass.
const policyOn = process.argv.includes('--policy-on');
const POLICY_SCENARIOS: Record<string, readonly string[]> = {
  '2025-11-25': ['tools-call-sampling'],
  '2026-07-28': [
    'input-required-result-basic-sampling',
    'input-required-result-basic-list-roots',
    'input-required-result-multiple-input-requests',
    'input-required-result-capability-check',
  ],
};
const at = process.argv.indexOf('--requirements');
const only = at >= 0 ? process.argv[at + 1] : undefined;
if (only !== undefined && !(REVISIONS as readonly string[]).includes(only)) {
  console.error(`usage: run-through-gateway [--requirements ${REVISIONS.join('|')}]`);
  process.exit(2);
}
const revisions: readonly Revision[] = (only ? [only as Revision] : REVISIONS).filter(
  (r) => !policyOn || POLICY_SCENARIOS[r] !== undefined,
);

const FIXTURE = path.join(ROOT, 'dist/test/fixtures/conformance-server.js');
const ARTIFACTS = path.join(ROOT, 'test-artifacts/conformance-gateway');

const upstream: Record<string, unknown> = {
  name: 'conformance',
  stdio: { command: NODE, args: [FIXTURE] },
  // The fixture speaks both eras and survives the 2026-07-28 probe, so the gateway speaks
  // 2026-07-28 to it (`auto`; stdio's default is 2025). `--upstream-2025` keeps the old era.
  protocol: process.argv.includes('--upstream-2025') ? '2025' : 'auto',
  // The operator's classification: the fixture's tools only read, and what they return is
  // someone else's content.
  tools: { '*': { class: 'read', labels: ['untrusted-source'] } },
  pinning: 'trust-on-first-use',
};
// The scenarios call `test_simple_text` and read `test://static-text` by their exact names, so
// the fixture is fronted with its names unchanged (`namespace: ''`). Until the gateway's
// configuration has that option, it is fronted with the default namespace and every
// name-addressed scenario fails for that reason alone; say so rather than hide it.
const unchanged = {
  ...upstream,
  namespace: '',
  ...(policyOn
    ? { inputRequests: { elicitation: true, urlElicitation: true, sampling: true, roots: true } }
    : {}),
};
const namespaced = !upstreamsConfigSchema.safeParse([unchanged]).success;
if (namespaced) {
  console.log(
    'NOTE: this gateway has no upstream option `namespace`; the fixture is fronted as ' +
      '`conformance__<name>`, so scenarios that address a tool, prompt or resource by name fail.',
  );
}

const t = await startTestGateway({ config: upstreamsConfig([namespaced ? upstream : unchanged]) });
const SCOPES = ['conformance:read', 'conformance:resources', 'conformance:prompts'];
// Each revision runs as its own person with its own key: one run's calls must not spend the
// other's rate-limit budget (the limits stay on, as they are by default).
const keyFor = async (who: string) => (await t.key({ owner: who, scopes: SCOPES })).key;
const key = await keyFor('conformance-probe');
// The upstream starts in the background: wait until the gateway serves its tools.
const probe = await connectClient(t.url, key);
await eventually(
  async () => ((await probe.listTools()).tools.length > 0 ? true : undefined),
  'the conformance fixture upstream to be served',
);
await probe.close();
const runs: SuiteRun[] = [];
let ok = true;
try {
  for (const revision of revisions) {
    const proxy = await startKeyProxy(t.url, await keyFor(`conformance-${revision}`));
    const baseline = path.join(ROOT, `test/conformance/gateway-expected-failures-${revision}.yaml`);
    const outDir = path.join(ARTIFACTS, revision);
    const scenarioRuns = policyOn
      ? POLICY_SCENARIOS[revision]!.map((scenario) => ({ scenario }))
      : [fs.existsSync(baseline) && !namespaced ? { expectedFailures: baseline } : {}];
    for (const only of scenarioRuns) {
      const run = await runServerSuite({ url: proxy.url, revision, outDir, ...only });
      runs.push(run);
      ok &&= run.code === 0;
    }
    await proxy.close();
  }
} finally {
  await t.close();
}

/** One row per scenario: its result under each revision run, and the checks that failed. */
function resultsTable(runs: readonly SuiteRun[]): string {
  const names = [...new Set(runs.flatMap((r) => r.scenarios.map((s) => s.name)))];
  const cell = (run: SuiteRun, name: string) => {
    const s = run.scenarios.find((x) => x.name === name);
    if (!s) return '—';
    const verdict = s.failed > 0 ? 'FAIL' : s.warnings.length > 0 ? 'pass, warned' : 'pass';
    return `${verdict}${s.scored ? '' : ' (not scored)'}`;
  };
  const failing = (name: string) =>
    [
      ...new Set(
        runs.flatMap((r) => {
          const s = r.scenarios.find((x) => x.name === name);
          return s ? [...s.failures, ...s.warnings].map((f) => f.id) : [];
        }),
      ),
    ].join(', ');
  return [
    `| scenario | ${runs.map((r) => r.revision).join(' | ')} | failing (or warned) checks |`,
    `|---|${runs.map(() => '---|').join('')}---|`,
    ...names.map((n) => `| ${n} | ${runs.map((r) => cell(r, n)).join(' | ')} | ${failing(n)} |`),
  ].join('\n');
}

const figures = runs.map(
  (r) => `through the gateway${namespaced ? ' (default namespace)' : ''}, ${describeRun(r)}`,
);
fs.mkdirSync(ARTIFACTS, { recursive: true });
fs.writeFileSync(
  path.join(ARTIFACTS, 'RESULTS.md'),
  `# Conformance through the gateway\n\n${figures.map((f) => `- ${f}`).join('\n')}\n\n${resultsTable(runs)}\n`,
);
console.log(`\n${figures.join('\n')}\nPer-scenario table: ${path.join(ARTIFACTS, 'RESULTS.md')}`);
process.exit(ok ? 0 : 1);
