/**
 * `portcullis audit …`: verify, query, export and erase the audit log of a data directory (its
 * `audit.file`, `audit.db` by default) with the keys in `<dataDir>/keys`. Exit codes: 0 success
 * (and an intact chain), 1 a broken chain, 2 bad input or a missing log.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import {
  exportJsonl,
  toOcsf,
  openPostgresAuditStore,
  openSqliteAuditStore,
  verifyAuditStore,
  AuditQueryError,
  parseDecision,
  parseFilters,
  parseLimit,
  parseTimeBound,
  type AuditQuery,
  type FilterOptions,
  type AuditRecord,
  type AuditStore,
} from '../../audit/index.js';
import { PORTCULLIS_VERSION } from '../../config/index.js';
import { CommandFailed } from '../command-failed.js';
import { auditFileOf, auditKeysOf, cliPrincipal, openAuditLog, storageOf } from '../local-audit.js';
import { asPgConfig } from '../../storage/index.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { jsonStdout, printJsonLines, printOut, renderTable, text } from '../print.js';
import { UsageError } from '../usage-error.js';

export { parseDecision, parseFilters, parseLimit, parseTimeBound };

/**
 * A fixed-width table for people. Principals and tool names are whatever callers sent (a name typed
 * on the sign-in page, an unknown tool's name), so the cells are escaped for the terminal.
 */
export function formatTable(records: readonly AuditRecord[]): string {
  const header = ['SEQ', 'TIME', 'PRINCIPAL', 'EVENT', 'TOOL', 'DECISION', 'OUTCOME', 'REASONS'];
  const rows = records.map((r) => [
    String(r.seq),
    r.time,
    r.erased ? '(erased)' : (r.principal ?? '-'),
    r.event,
    r.tool ?? '-',
    r.decision,
    r.outcome,
    r.reasons.join(',') || '-',
  ]);
  return `${renderTable(header, rows)}\n`;
}

function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--principal <principal>', 'only records of this principal')
    .option('--since <time>', 'only records at or after this time: 30m, 1h, 7d or ISO-8601')
    .option('--until <time>', 'only records before this time: 30m, 1h, 7d or ISO-8601')
    .option('--tool <tool>', 'only calls of this tool')
    .option('--decision <decision>', 'only this decision: allow, deny, confirm or error')
    .option('--outcome <outcome>', 'only this outcome: ok, denied, invalid, failed, rate-limited, …')
    .option('--client <client>', 'only records of this OAuth client id')
    .option('--upstream <upstream>', 'only records of this upstream server')
    .option('--reason <reason>', 'only records with this reason (e.g. scope-missing)');
}

/** The audit file of a data directory, which must exist: a missing log is a usage error. */
function existingAuditFile(dataDirFlag: string | undefined): { dataDir: string; file: string } {
  const dataDir = resolveDataDir(dataDirFlag);
  // On PostgreSQL the audit log is in the database, not in a file of the data directory.
  if (storageOf(dataDir).driver === 'postgres') return { dataDir, file: '' };
  const file = auditFileOf(dataDir);
  if (!existsSync(file)) throw new UsageError(`no audit log at ${file} (is --data-dir right?)`);
  return { dataDir, file };
}

/** Bad filters are the caller's mistake: exit code 2. */
function filtersOf(opts: FilterOptions): ReturnType<typeof parseFilters> {
  try {
    return parseFilters(opts, new Date());
  } catch (err) {
    throw err instanceof AuditQueryError ? new UsageError(err.message) : err;
  }
}

/** Runs an action with the store open for reading. */
async function withStore(
  dataDirFlag: string | undefined,
  action: (store: AuditStore, dataDir: string) => Promise<void>,
): Promise<void> {
  const dataDir = resolveDataDir(dataDirFlag);
  const storage = storageOf(dataDir);
  const store =
    storage.driver === 'postgres'
      ? await openPostgresAuditStore(asPgConfig(storage))
      : openSqliteAuditStore({ file: existingAuditFile(dataDirFlag).file });
  try {
    await action(store, dataDir);
  } finally {
    await store.close();
  }
}

export function register(program: Command): void {
  const audit = program.command('audit').description('verify, search, export and erase the audit log');

  withDataDir(
    audit
      .command('verify')
      .description(
        'check the hash chain, checkpoints, signed head and erasures; exit 1 and name the first broken record',
      ),
  ).action((opts: { dataDir?: string }) =>
    withStore(opts.dataDir, async (store, dataDir) => {
      const keys = await auditKeysOf(dataDir);
      const result = await verifyAuditStore(store, keys.publicKey);
      if (result.ok) {
        const first = result.count === 0 ? undefined : result.lastSeq - result.count + 1;
        printOut(
          result.count === 0
            ? 'audit log intact: no records\n'
            : text`audit log intact: ${result.count} records (seq ${first}–${result.lastSeq}), ${result.erased} erased\n`,
        );
        return;
      }
      printOut(
        text`audit log BROKEN at seq ${result.firstBrokenSeq}: ${result.problem} — ${result.detail}\n`,
      );
      throw new CommandFailed();
    }),
  );

  withDataDir(
    addFilterOptions(
      audit
        .command('query')
        .description('show the newest matching records (a table, or JSON lines with --json)')
        .option('--limit <n>', 'at most this many records (newest)', '50')
        .option('--json', 'print JSON lines instead of a table'),
    ),
  ).action((opts: FilterOptions & { limit: string; json?: boolean; dataDir?: string }) => {
    let limit: number;
    try {
      limit = parseLimit(opts.limit);
    } catch (err) {
      throw err instanceof AuditQueryError ? new UsageError(err.message) : err;
    }
    const query: AuditQuery = { ...filtersOf(opts), limit, newest: true };
    return withStore(opts.dataDir, async (store) => {
      const records = await store.query(query);
      if (opts.json) printJsonLines(records);
      else printOut(formatTable(records));
    });
  });

  withDataDir(
    addFilterOptions(
      audit
        .command('export')
        .description('write every matching record to stdout as JSON lines')
        .option('--format <format>', 'record (the audit record) or ocsf (OCSF 1.3.0 events)', 'record'),
    ),
  ).action((opts: FilterOptions & { format: string; dataDir?: string }) => {
    const filters = filtersOf(opts);
    if (opts.format !== 'record' && opts.format !== 'ocsf')
      throw new UsageError(`--format must be record or ocsf, not "${opts.format.slice(0, 40)}"`);
    const encode =
      opts.format === 'ocsf'
        ? (r: AuditRecord) => JSON.stringify(toOcsf(r, { productVersion: PORTCULLIS_VERSION }))
        : undefined;
    return withStore(opts.dataDir, async (store) => {
      const out = jsonStdout();
      await exportJsonl(store, filters, out, encode);
      await new Promise((resolve) => out.end(resolve));
    });
  });

  withDataDir(
    audit
      .command('erase')
      .description(
        "erase a principal's personal data from the log; the erasure is itself recorded, signed, and the chain still verifies",
      )
      .requiredOption('--principal <principal>', 'the principal whose data is erased'),
  ).action(async (opts: { principal: string; dataDir?: string }) => {
    const { dataDir } = existingAuditFile(opts.dataDir);
    const opened = await openAuditLog(dataDir);
    try {
      const count = await opened.log.erase(
        { principal: opts.principal },
        { correlationId: randomUUID(), principal: cliPrincipal() },
      );
      printOut(
        count === 0
          ? text`no records of principal "${opts.principal}" to erase\n`
          : text`erased the personal data (principal, tenant, client, credential, session, arguments) of ${count} records of principal "${opts.principal}"; ` +
              'their hashes are kept, so the chain still verifies, and the erasure is recorded as a signed audit-erased event\n',
      );
    } finally {
      await opened.close();
    }
  });
}
