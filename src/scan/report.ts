import { createHash } from 'node:crypto';
import { CHECKS, SEVERITIES, severityRank, type CheckId, type Severity } from './checks.js';

/**
 * The scan report: what was scanned, what it serves, and what was found. This is the `--json`
 * output (schema in docs/scan-report.schema.json, `schemaVersion` 1: fields are only ever added);
 * the human and SARIF reports are rendered from it, and `--baseline` reads it back.
 */

/** Where in a target a finding is. */
export interface FindingLocation {
  readonly kind: 'server' | 'tool' | 'prompt' | 'resource' | 'resource-template' | 'instructions' | 'file';
  /** The item's name (tool, prompt), URI (resource, template) or the file path. */
  readonly name?: string;
  /** JSON path inside the item, as `$.inputSchema.properties.q.description`. */
  readonly path?: string;
}

export interface Finding {
  readonly check: CheckId;
  readonly severity: Severity;
  /** The target's id (see Target). */
  readonly target: string;
  readonly location: FindingLocation;
  /** What was seen, in one or two sentences; never a secret's value (they are masked). */
  readonly evidence: string;
  /** Stable across runs for the same check, target and location: SARIF fingerprints, suppressions. */
  readonly fingerprint: string;
}

export type ItemKind = 'tool' | 'prompt' | 'resource' | 'resource-template' | 'instructions';

export interface InventoryItem {
  readonly kind: ItemKind;
  readonly name: string;
  /** `sha256:` of the RFC 8785 JSON of the definition as served (the gateway's pin hash). */
  readonly hash: string;
  /** The definition, with credential-like values masked. */
  readonly definition: unknown;
}

export interface Target {
  /** `stdio:<command>`, the URL, or `<config file>#<server name>`. */
  readonly id: string;
  readonly transport: 'http' | 'stdio';
  /** The URL, or the command line. */
  readonly location: string;
  readonly protocolVersion?: string;
  readonly server?: { readonly name?: string; readonly version?: string };
  /** Whether the inventory was read (false: listing refused or the scan of this target failed). */
  readonly listed: boolean;
  readonly inventory: readonly InventoryItem[];
  /** Why the scan of this target failed, when it did (exit code 2). */
  readonly error?: string;
}

export interface ScanReport {
  readonly schemaVersion: 1;
  readonly tool: { readonly name: 'portcullis-scan'; readonly version: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly mode: 'passive' | 'active';
  /** The client configuration file, for `--client-config` scans. */
  readonly clientConfig?: string;
  readonly targets: readonly Target[];
  readonly findings: readonly Finding[];
  readonly summary: Readonly<Record<Severity, number>> & { readonly total: number };
}

export const SCANNER_VERSION = '0.1.0';

/** Evidence is shown in terminals and CI logs: one bounded line. */
const EVIDENCE_MAX = 300;

export function fingerprintOf(check: string, target: string, location: FindingLocation): string {
  return createHash('sha256')
    .update(JSON.stringify([check, target, location.kind, location.name ?? '', location.path ?? '']))
    .digest('hex')
    .slice(0, 32);
}

/** A finding of `check`, with the check's own severity unless the caller knows better. */
export function finding(
  check: CheckId,
  target: string,
  location: FindingLocation,
  evidence: string,
  severity: Severity = CHECKS[check].severity,
): Finding {
  const oneLine = evidence.replace(/\s+/g, ' ').trim();
  return {
    check,
    severity,
    target,
    location,
    evidence: oneLine.length > EVIDENCE_MAX ? `${oneLine.slice(0, EVIDENCE_MAX - 1)}…` : oneLine,
    fingerprint: fingerprintOf(check, target, location),
  };
}

/** Findings worst first, then by check id and location, duplicates (same fingerprint) dropped. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return [...findings]
    .sort(
      (a, b) =>
        severityRank(b.severity) - severityRank(a.severity) ||
        a.target.localeCompare(b.target) ||
        a.check.localeCompare(b.check) ||
        (a.location.name ?? '').localeCompare(b.location.name ?? '') ||
        (a.location.path ?? '').localeCompare(b.location.path ?? ''),
    )
    .filter((f) => (seen.has(f.fingerprint) ? false : (seen.add(f.fingerprint), true)));
}

export function summarise(findings: readonly Finding[]): ScanReport['summary'] {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  return { ...counts, total: findings.length };
}

/**
 * The exit code a report earns (main.ts): 2 when any target could not be scanned (a partial
 * scan must not pass CI as clean), 1 when a finding is at or above `failOn`, else 0.
 */
export function exitCodeOf(report: ScanReport, failOn: Severity): 0 | 1 | 2 {
  if (report.targets.some((t) => t.error !== undefined)) return 2;
  return report.findings.some((f) => severityRank(f.severity) >= severityRank(failOn)) ? 1 : 0;
}
