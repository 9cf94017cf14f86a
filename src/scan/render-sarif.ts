import { CHECK_IDS, CHECKS, type Severity } from './checks.js';
import type { Finding, ScanReport } from './report.js';

/**
 * The report as SARIF 2.1.0 (OASIS), so GitHub code scanning and other CI tools show the
 * findings. One run; one rule per check (all of them, so a result's ruleIndex is stable across
 * scans); `security-severity` lets GitHub rank them as it ranks CodeQL's. A finding's location is
 * the server's URL or command (or the client configuration file) with the item as a logical
 * location; `partialFingerprints` carry the finding's fingerprint so alerts track across runs.
 */

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub's scale: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, > 0 low. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.5',
};

function artifactOf(f: Finding, report: ScanReport): string {
  if (f.location.kind === 'file' && f.location.name) return f.location.name;
  const target = report.targets.find((t) => t.id === f.target);
  return target?.transport === 'http' ? target.location : (report.clientConfig ?? f.target);
}

/** Artifact URIs: a URL as it is; a path or command line as a relative reference (spaces encoded). */
const uriOf = (s: string) => (/^https?:\/\//.test(s) ? s : encodeURI(s.replace(/^stdio:/, '')));

export function renderSarif(report: ScanReport): Record<string, unknown> {
  const ruleIndex = new Map(CHECK_IDS.map((id, i) => [id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'portcullis-scan',
            semanticVersion: report.tool.version,
            version: report.tool.version,
            rules: CHECK_IDS.map((id) => {
              const c = CHECKS[id];
              return {
                id,
                name: id
                  .replace(/[/-](\w)/g, (_, ch: string) => ch.toUpperCase())
                  .replace(/^\w/, (ch) => ch.toUpperCase()),
                shortDescription: { text: c.title },
                fullDescription: { text: c.why },
                help: {
                  text: `${c.fix} (${c.source})`,
                  markdown: `**Fix:** ${c.fix}\n\n**Source:** ${c.source}`,
                },
                defaultConfiguration: { level: LEVEL[c.severity] },
                properties: {
                  'security-severity': SECURITY_SEVERITY[c.severity],
                  tags: ['security', 'mcp', c.area],
                  precision: 'high',
                },
              };
            }),
          },
        },
        invocations: [
          {
            executionSuccessful: report.targets.every((t) => t.error === undefined),
            startTimeUtc: report.startedAt,
            endTimeUtc: report.finishedAt,
          },
        ],
        results: report.findings.map((f) => ({
          ruleId: f.check,
          ruleIndex: ruleIndex.get(f.check),
          level: LEVEL[f.severity],
          message: { text: `${CHECKS[f.check].title}: ${f.evidence}` },
          locations: [
            {
              physicalLocation: { artifactLocation: { uri: uriOf(artifactOf(f, report)) } },
              logicalLocations: [
                {
                  name: f.location.name ?? f.location.kind,
                  kind: f.location.kind === 'tool' || f.location.kind === 'prompt' ? 'function' : 'resource',
                  fullyQualifiedName: `${f.target}#${f.location.kind}${f.location.name ? `/${f.location.name}` : ''}${f.location.path ? `/${f.location.path}` : ''}`,
                },
              ],
            },
          ],
          partialFingerprints: { 'portcullisFinding/v1': f.fingerprint },
          properties: {
            severity: f.severity,
            'security-severity': SECURITY_SEVERITY[f.severity],
            target: f.target,
          },
        })),
      },
    ],
  };
}
