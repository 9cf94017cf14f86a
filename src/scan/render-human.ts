import { AREAS, CHECKS, severityRank, type Severity } from './checks.js';
import type { Finding, ScanReport } from './report.js';

/**
 * The human report, as lines of styled segments. Styling is a closed set of names; the CLI's
 * printer turns them into terminal colours (or drops them) and escapes every segment's text,
 * so nothing a server chose — a tool name, an evidence quote — can reach the terminal raw.
 */
export type Style = 'bold' | 'dim' | 'red' | 'yellow' | 'green' | 'cyan' | 'magenta';
export interface Segment {
  readonly text: string;
  readonly style?: Style;
}
export type Line = readonly Segment[];

const SEVERITY_STYLE: Record<Severity, Style> = {
  critical: 'magenta',
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  info: 'dim',
};

const plain = (text: string): Segment => ({ text });
const styled = (text: string, style: Style): Segment => ({ text, style });

function where(f: Finding): string {
  const loc = f.location;
  if (loc.kind === 'server') return loc.path ? `server (${loc.path})` : 'server';
  if (loc.kind === 'file') return loc.path ?? loc.name ?? 'file';
  return `${loc.kind} ${loc.name ?? ''}${loc.path && loc.path !== '$' ? ` ${loc.path}` : ''}`;
}

/** The report as lines, grouped by target, then checklist area, then check. */
export function renderHuman(report: ScanReport, opts: { failOn: Severity; exitCode: number }): Line[] {
  const lines: Line[] = [];
  const blank = () => lines.push([]);
  if (report.clientConfig !== undefined) {
    lines.push([styled('Client configuration ', 'bold'), plain(report.clientConfig)]);
  }
  for (const t of report.targets) {
    const count = (k: string) => t.inventory.filter((i) => i.kind === k).length;
    lines.push([styled('Scanned ', 'bold'), styled(t.id, 'bold')]);
    if (t.error !== undefined) {
      lines.push([plain('  '), styled('scan failed: ', 'red'), plain(t.error)]);
    } else {
      const server = [t.server?.name, t.server?.version].filter(Boolean).join(' ') || 'unnamed server';
      lines.push([
        plain(`  ${server} · ${t.transport}${t.protocolVersion ? ` ${t.protocolVersion}` : ''} · `),
        plain(
          t.listed
            ? `${count('tool')} tools, ${count('prompt')} prompts, ${count('resource')} resources, ${count('resource-template')} templates`
            : 'not listed',
        ),
      ]);
    }
  }
  blank();
  for (const area of AREAS) {
    const inArea = report.findings.filter((f) => CHECKS[f.check].area === area);
    if (inArea.length === 0) continue;
    lines.push([styled(area.toUpperCase(), 'bold')]);
    const checks = [...new Set(inArea.map((f) => f.check))].sort(
      (a, b) => severityRank(CHECKS[b].severity) - severityRank(CHECKS[a].severity) || a.localeCompare(b),
    );
    for (const check of checks) {
      const def = CHECKS[check];
      const hits = inArea.filter((f) => f.check === check);
      const worst = hits.reduce<Severity>(
        (w, f) => (severityRank(f.severity) > severityRank(w) ? f.severity : w),
        'info',
      );
      lines.push([
        plain('  '),
        styled(worst.toUpperCase().padEnd(8), SEVERITY_STYLE[worst]),
        plain(' '),
        styled(def.title, 'bold'),
        styled(`  [${check}]`, 'dim'),
      ]);
      for (const f of hits.slice(0, 20)) {
        const multi = report.targets.length > 1 ? `${f.target} · ` : '';
        lines.push([
          plain('      · '),
          ...(f.severity !== worst ? [styled(`${f.severity}: `, SEVERITY_STYLE[f.severity])] : []),
          styled(`${multi}${where(f)}: `, 'dim'),
          plain(f.evidence),
        ]);
      }
      if (hits.length > 20)
        lines.push([styled(`      · … and ${hits.length - 20} more (see --json)`, 'dim')]);
      if (severityRank(worst) >= severityRank('medium')) {
        lines.push([styled('      why: ', 'dim'), plain(def.why)]);
        lines.push([styled('      fix: ', 'dim'), plain(def.fix)]);
        lines.push([styled('      from: ', 'dim'), styled(def.source, 'dim')]);
      } else {
        lines.push([styled('      fix: ', 'dim'), plain(def.fix)]);
      }
    }
    blank();
  }
  const s = report.summary;
  const parts = (['critical', 'high', 'medium', 'low', 'info'] as const).map((k) =>
    styled(`${s[k]} ${k}`, s[k] > 0 ? SEVERITY_STYLE[k] : 'dim'),
  );
  const verdict =
    opts.exitCode === 2
      ? styled('the scan did not complete (exit 2)', 'red')
      : opts.exitCode === 1
        ? styled(`findings at or above ${opts.failOn} (exit 1)`, 'red')
        : styled(`nothing at or above ${opts.failOn} (exit 0)`, 'green');
  lines.push([
    styled('Summary: ', 'bold'),
    ...parts.flatMap((p, i) => (i === 0 ? [p] : [plain(', '), p])),
    plain(' — '),
    verdict,
  ]);
  return lines;
}
