// Runs `conformance server` for one requirement set and reads back what each scenario did: the
// summary the suite prints, and the failing checks from the checks.json it saves per scenario.
// Shared by run-fixture.ts and run-through-gateway.ts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFORMANCE, CONFORMANCE_BIN } from './authorization-support.js';

/** The two revisions whose server requirements the runners check, newest first. */
export const REVISIONS = ['2026-07-28', '2025-11-25'] as const;
export type Revision = (typeof REVISIONS)[number];

export interface FailedCheck {
  readonly id: string;
  readonly message: string;
}

export interface ScenarioResult {
  readonly name: string;
  readonly passed: number;
  readonly failed: number;
  /** Whether the requirement set counts it (extensions and pending scenarios run unscored). */
  readonly scored: boolean;
  readonly failures: readonly FailedCheck[];
  /** Checks of a SHOULD that did not hold: the summary counts them neither way, a baseline does. */
  readonly warnings: readonly FailedCheck[];
}

export interface SuiteRun {
  readonly revision: Revision;
  /** The suite's exit code: 0 when every scored failure is in the expected-failures file. */
  readonly code: number | null;
  readonly output: string;
  readonly scenarios: readonly ScenarioResult[];
}

const SUMMARY_LINE = /^([✓✗]) (\S+): (\d+) passed, (\d+) failed$/;

/** The server scenarios a revision scores, from the suite's own frozen requirement set. */
export function scoredScenarios(revision: Revision): ReadonlySet<string> {
  const file = path.join(CONFORMANCE, 'requirements', `${revision}.yaml`);
  const set = parse(fs.readFileSync(file, 'utf8')) as { server?: unknown };
  if (!Array.isArray(set.server)) throw new Error(`${file} lists no server scenarios`);
  return new Set(set.server.filter((s): s is string => typeof s === 'string'));
}

function checksWith(outDir: string, scenario: string, status: 'FAILURE' | 'WARNING'): FailedCheck[] {
  // The suite saves each scenario's checks under server-<scenario>-<ISO timestamp>/.
  const named = new RegExp(`^server-${scenario.replace(/[^a-z0-9]/g, '\\$&')}-\\d{4}-\\d{2}-\\d{2}T`);
  const dir = fs.existsSync(outDir) ? fs.readdirSync(outDir).find((d) => named.test(d)) : undefined;
  if (!dir) return [];
  const checks = JSON.parse(fs.readFileSync(path.join(outDir, dir, 'checks.json'), 'utf8')) as {
    id: string;
    status: string;
    errorMessage?: string;
  }[];
  return checks
    .filter((c) => c.status === status)
    .map((c) => ({ id: c.id, message: (c.errorMessage ?? '').replace(/\s+/g, ' ').slice(0, 300) }));
}

/**
 * Runs the server scenarios `revision` requires (and the unscored ones it lists) against `url`.
 * The suite's output is echoed as it comes; its results land in `outDir` (emptied first).
 */
export async function runServerSuite(opts: {
  url: string;
  revision: Revision;
  outDir: string;
  expectedFailures?: string;
  echo?: boolean;
  /** Only these scenarios (the suite's --scenario). */
  scenario?: string;
}): Promise<SuiteRun> {
  fs.rmSync(opts.outDir, { recursive: true, force: true });
  const args = [
    CONFORMANCE_BIN,
    'server',
    '--url',
    opts.url,
    // A scenario run names its scenario; a requirement set fixes the scenarios itself.
    ...(opts.scenario ? ['--spec-version', opts.revision] : ['--requirements', opts.revision]),
    '-o',
    opts.outDir,
    ...(opts.expectedFailures ? ['--expected-failures', opts.expectedFailures] : []),
    ...(opts.scenario ? ['--scenario', opts.scenario] : []),
  ];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (d: Buffer) => {
      output += d.toString();
      if (opts.echo !== false) process.stdout.write(d);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, output }));
  });
  const scored = scoredScenarios(opts.revision);
  const scenarios = output.split('\n').flatMap((line): ScenarioResult[] => {
    const m = SUMMARY_LINE.exec(line);
    if (!m) return [];
    const name = m[2]!;
    const failed = Number(m[4]);
    return [
      {
        name,
        passed: Number(m[3]),
        failed,
        scored: scored.has(name),
        failures: checksWith(opts.outDir, name, 'FAILURE'),
        warnings: checksWith(opts.outDir, name, 'WARNING'),
      },
    ];
  });
  return { revision: opts.revision, code, output, scenarios };
}

/** One line of figures for a run: scored scenarios passed and failed, and the unscored ones. */
export function describeRun(run: SuiteRun): string {
  const scored = run.scenarios.filter((s) => s.scored);
  const unscored = run.scenarios.filter((s) => !s.scored);
  const ok = (s: ScenarioResult) => s.failed === 0;
  const warned = scored.filter((s) => ok(s) && s.warnings.length > 0).length;
  return (
    `${run.revision}: ${scored.filter(ok).length} of ${scored.length} scored scenarios pass ` +
    `(${scored.filter((s) => !ok(s)).length} fail${warned ? `, ${warned} of the passing with SHOULD warnings` : ''}); ` +
    `not scored: ${unscored.filter(ok).length} of ${unscored.length} pass; suite exit code ${run.code}`
  );
}
