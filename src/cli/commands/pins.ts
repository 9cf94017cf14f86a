import path from 'node:path';
import type { Command } from 'commander';
import {
  decidePins,
  diffDefinitions,
  INSTRUCTIONS_KEY,
  LOCKFILE_NAME,
  OBSERVED_FILE_NAME,
  pinReport,
  readLockfile,
  readObserved,
  type PinRow,
} from '../../pins/index.js';
import { withAdminAudit } from '../local-audit.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printJsonLines, printOut, renderTable, shown, text } from '../print.js';
import { UsageError } from '../usage-error.js';

const scanText = (row: Pick<PinRow, 'scan'>) => {
  if (!row.scan) return '-';
  const rules = [...new Set(row.scan.findings.map((f) => f.rule))];
  return row.scan.verdict === 'clean' ? 'clean' : `${row.scan.verdict} (${rules.join(', ')})`;
};

function files(dataDir: string) {
  return { lock: path.join(dataDir, LOCKFILE_NAME), observed: path.join(dataDir, OBSERVED_FILE_NAME) };
}

/** The text of `portcullis pins diff`: each unapproved item, its scan, and what changed. */
function renderPinDiff(dataDir: string, upstream: string | undefined): string {
  const f = files(dataDir);
  const lock = readLockfile(f.lock);
  const observed = readObserved(f.observed);
  const out: string[] = [];
  for (const row of pinReport(lock, observed, upstream)) {
    if (row.state === 'approved') continue;
    // Keys, paths and definitions are the upstream's, which may be hostile: each is escaped.
    out.push(
      text`${row.upstream} ${row.key}: ${row.state}` + (row.scan ? text`  [scan: ${scanText(row)}]` : ''),
    );
    for (const f of row.scan?.findings ?? []) out.push(text`  ! ${f.rule} at ${f.path}`);
    const before = lock.upstreams[row.upstream]?.approved[row.key]?.definition;
    const after = observed.upstreams[row.upstream]?.items[row.key]?.definition;
    out.push(...diffDefinitions(before, after).map((l) => `  ${shown(l)}`), '');
  }
  return out.length ? out.join('\n') : 'Nothing to review: every definition listed is approved.\n';
}

export function register(program: Command): void {
  const pins = program
    .command('pins')
    .description(
      'Review upstream definitions (tools, prompts, resource templates, instructions): new or changed ' +
        'ones are blocked until approved. Approvals ' +
        `go to <data dir>/${LOCKFILE_NAME} (commit it) and apply to a running gateway at once.`,
    );

  withDataDir(
    pins
      .command('list')
      .description(
        'Every pinned definition: approved, pending, changed, rejected or removed, with scan findings.',
      )
      .option('--json', 'JSON lines'),
  ).action((opts: { dataDir?: string; json?: boolean }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const f = files(dataDir);
    const rows = pinReport(readLockfile(f.lock), readObserved(f.observed));
    if (opts.json) {
      printJsonLines(rows);
      return;
    }
    if (rows.length === 0) {
      printOut('No upstream definitions observed or approved yet.\n');
      return;
    }
    const table = rows.map((r) => [
      r.upstream,
      r.key,
      r.state,
      scanText(r),
      r.hash?.slice(0, 19) ?? '-',
      r.approvedAt ?? '-',
    ]);
    printOut(`${renderTable(['UPSTREAM', 'ITEM', 'STATE', 'SCAN', 'HASH', 'APPROVED'], table)}\n`);
  });

  withDataDir(
    pins
      .command('diff')
      .description(
        'Show what changed in each unapproved definition (against the approved one), with scan findings.',
      )
      .argument('[server]', 'only this upstream'),
  ).action((server: string | undefined, opts: { dataDir?: string }) => {
    printOut(renderPinDiff(resolveDataDir(opts.dataDir), server));
  });

  for (const decision of ['approve', 'reject'] as const) {
    withDataDir(
      pins
        .command(decision)
        .description(
          decision === 'approve'
            ? 'Approve the definitions an upstream lists now (all unapproved ones, or one item: a tool ' +
                'name, prompt:<name>, resource-template:<uriTemplate>, or ' +
                `"${INSTRUCTIONS_KEY}" for the server instructions).`
            : 'Reject definitions: they stay blocked and raise no further alert.',
        )
        .argument('<server>', 'upstream name')
        .argument(
          '[item]',
          'one item: a tool (as the upstream names it), prompt:<name>, resource-template:<uriTemplate>',
        ),
    ).action(async (server: string, tool: string | undefined, opts: { dataDir?: string }) => {
      const dataDir = resolveDataDir(opts.dataDir);
      const { done, skipped } = await withAdminAudit(dataDir, async (audit) => {
        const result = decidePins(dataDir, decision, server, tool, new Date());
        if (!result.ok) {
          throw new UsageError(
            result.problem === 'not-observed'
              ? `nothing observed for upstream "${server}"; start the gateway so it can list that server's definitions`
              : `upstream "${server}" does not list "${tool}"`,
          );
        }
        if (result.done.length > 0) {
          await audit.record({
            reason: decision === 'approve' ? 'pin-approved' : 'pin-rejected',
            upstream: server,
            details: { items: result.done, skipped: result.skipped },
          });
        }
        return result;
      });
      const verb = decision === 'approve' ? 'Approved' : 'Rejected';
      printOut(
        done.length ? text`${verb} ${done.map((k) => `${server} ${k}`).join(', ')}.\n` : 'Nothing to do.\n',
      );
      for (const k of skipped) {
        printOut(
          text`Skipped ${server} ${k}: the scan calls it malicious; review it and approve it by name.\n`,
        );
      }
    });
  }
}
