// Runs the pinned @modelcontextprotocol/conformance server scenarios DIRECTLY against the
// conformance fixture upstream (test/fixtures/conformance-server.ts, over Streamable HTTP on
// loopback), for both requirement sets. This proves the fixture: whatever fails later through the
// gateway fails because of the gateway. Usage (after `npm run build`):
//   node dist/test/conformance/run-fixture.js [--requirements 2026-07-28|2025-11-25]
// Results land in test-artifacts/conformance-fixture/<revision>/; known failures are listed in
// fixture-expected-failures.yaml (none) and do not fail the run.
import path from 'node:path';
import { serveFixtureHttp } from '../fixtures/conformance/serve-http.js';
import { ROOT } from './authorization-support.js';
import { describeRun, REVISIONS, runServerSuite, type Revision } from './run-suite.js';

const at = process.argv.indexOf('--requirements');
const only = at >= 0 ? process.argv[at + 1] : undefined;
if (only !== undefined && !(REVISIONS as readonly string[]).includes(only)) {
  console.error(`usage: run-fixture [--requirements ${REVISIONS.join('|')}]`);
  process.exit(2);
}
const revisions: readonly Revision[] = only ? [only as Revision] : REVISIONS;

const fixture = await serveFixtureHttp();
const summary: string[] = [];
let ok = true;
try {
  for (const revision of revisions) {
    const run = await runServerSuite({
      url: fixture.url,
      revision,
      outDir: path.join(ROOT, 'test-artifacts/conformance-fixture', revision),
      expectedFailures: path.join(ROOT, 'test/conformance/fixture-expected-failures.yaml'),
    });
    summary.push(`fixture directly, ${describeRun(run)}`);
    ok &&= run.code === 0;
  }
} finally {
  await fixture.close();
}
console.log(`\n${summary.join('\n')}`);
process.exit(ok ? 0 : 1);
