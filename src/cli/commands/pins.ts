import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  decidePins,
  diffDefinitions,
  formatLockfile,
  importLockfile,
  INSTRUCTIONS_KEY,
  LOCKFILE_NAME,
  loadObserved,
  loadPins,
  parseLockfile,
  pinReport,
  type PinRow,
} from '../../pins/index.js';
import { PortcullisError } from '../../errors/index.js';
import type { PinStore } from '../../storage/index.js';
import { withAdminAudit } from '../local-audit.js';
import { withLocalPins } from '../open-local.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printErr, printJsonLines, printOut, renderTable, shown, text } from '../print.js';
import { UsageError } from '../usage-error.js';

const scanText = (row: Pick<PinRow, 'scan'>) => {
  if (!row.scan) return '-';
  const rules = [...new Set(row.scan.findings.map((f) => f.rule))];
  return row.scan.verdict === 'clean' ? 'clean' : `${row.scan.verdict} (${rules.join(', ')})`;
};

/** The text of `portcullis pins diff`: each unapproved item, its scan, and what changed. */
async function renderPinDiff(store: PinStore, upstream: string | undefined): Promise<string> {
  const { lock } = await loadPins(store);
  const observed = await loadObserved(store);
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
        'ones are blocked until approved. Decisions go to the storage backend and apply to every ' +
        `running gateway within a second; \`pins export\` writes them as ${LOCKFILE_NAME} to review and commit.`,
    );

  withDataDir(
    pins
      .command('list')
      .description(
        'Every pinned definition: approved, pending, changed, rejected or removed, with scan findings.',
      )
      .option('--json', 'JSON lines'),
  ).action(async (opts: { dataDir?: string; json?: boolean }) => {
    const rows = await withLocalPins(resolveDataDir(opts.dataDir), async (store) =>
      pinReport((await loadPins(store)).lock, await loadObserved(store)),
    );
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
  ).action(async (server: string | undefined, opts: { dataDir?: string }) => {
    printOut(await withLocalPins(resolveDataDir(opts.dataDir), (store) => renderPinDiff(store, server)));
  });

  withDataDir(
    pins
      .command('export')
      .description(
        `Write the approved and rejected definitions in the lockfile format (${LOCKFILE_NAME}: sorted keys, ` +
          'one field a line) to review and commit.',
      )
      .option('--out <file>', 'write to this file (atomically) instead of standard output'),
  ).action(async (opts: { dataDir?: string; out?: string }) => {
    const { lock, broken } = await withLocalPins(resolveDataDir(opts.dataDir), loadPins);
    for (const b of broken) {
      printErr(
        text`Left out ${b.upstream} ${b.key}: its stored approval does not hash to its definition (was the database edited?).\n`,
      );
    }
    const body = formatLockfile(lock);
    if (!opts.out) {
      printOut(body);
      return;
    }
    const file = path.resolve(opts.out);
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, body, { mode: 0o644 });
    fs.renameSync(tmp, file);
    printOut(text`Wrote ${file}.\n`);
  });

  withDataDir(
    pins
      .command('import')
      .description(
        'Replace every approved and rejected definition with those of a lockfile, in one transaction. ' +
          'The file is checked first (each approved hash must be the hash of its definition): a bad ' +
          'file changes nothing.',
      )
      .argument('<file>', `a lockfile (${LOCKFILE_NAME} format)`),
  ).action(async (file: string, opts: { dataDir?: string }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    let textOf: string;
    try {
      textOf = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new PortcullisError('config-invalid', `Cannot read ${file}.`, {
        detail: String(err),
        cause: err,
      });
    }
    const lock = parseLockfile(textOf, file);
    const count = Object.values(lock.upstreams).reduce((n, u) => n + Object.keys(u.approved).length, 0);
    await withAdminAudit(dataDir, (audit) =>
      withLocalPins(dataDir, async (store) => {
        await importLockfile(store, lock, file);
        await audit.record({
          reason: 'pins-imported',
          details: {
            file: path.basename(file),
            approved: count,
            upstreams: Object.keys(lock.upstreams).length,
          },
        });
      }),
    );
    printOut(text`Imported ${count} approved definitions from ${file}.\n`);
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
        )
        .option(
          '--hash <hash>',
          'with an item: decide only if it is still this definition (the hash `pins list --json` or `pins diff` showed)',
        ),
    ).action(async (server: string, tool: string | undefined, opts: { dataDir?: string; hash?: string }) => {
      if (opts.hash !== undefined && tool === undefined) throw new UsageError('--hash needs an item');
      const dataDir = resolveDataDir(opts.dataDir);
      const { done, skipped } = await withAdminAudit(dataDir, async (audit) => {
        const result = await withLocalPins(dataDir, (store) =>
          decidePins(store, decision, server, tool, new Date(), opts.hash),
        );
        if (!result.ok) {
          throw new UsageError(
            result.problem === 'not-observed'
              ? `nothing observed for upstream "${server}"; start the gateway so it can list that server's definitions`
              : result.problem === 'changed'
                ? `${server} ${tool} is no longer the definition with hash ${opts.hash}; review it again (portcullis pins diff ${server})`
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
