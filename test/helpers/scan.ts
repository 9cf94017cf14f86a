import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { runCli } from './cli.js';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;
/** The published schema of `portcullis scan --json` (docs/scan-report.schema.json). */
export const reportSchema = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'docs/scan-report.schema.json'), 'utf8'),
);
const validateReport = addFormats(new Ajv2020({ strict: true, allErrors: true })).compile(reportSchema);

/** Runs `portcullis scan --json --quiet ARGS`; the exit code and the report, checked against its schema. */
export async function scanJson(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
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

/** "severity check [name]" of every finding at the given severities, sorted. */
export const atLeast = (report: any, levels: string[]): string[] =>
  report.findings
    .filter((f: any) => levels.includes(f.severity))
    .map((f: any) => `${f.severity} ${f.check}${f.location.name ? ` ${f.location.name}` : ''}`)
    .sort();
