/**
 * `portcullis audit …`: verify, query, export and erase the audit log in `<dataDir>/audit.db`
 * with the keys in `<dataDir>/keys`. Exit codes: 0 success (and an intact chain), 1 a broken chain,
 * 2 bad input or a missing log.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import {
  exportJsonl,
  loadAuditKeys,
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
import { resolveDataDir, withDataDir } from '../options.js';

/** Bad command-line input: reported as such, exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

export interface CliIo {
  readonly out: Writable;
  readonly err: Writable;
  readonly now: () => Date;
  readonly setExitCode: (code: number) => void;
}

const defaultIo: CliIo = {
  out: process.stdout,
  err: process.stderr,
  now: () => new Date(),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

export { parseDecision, parseFilters, parseLimit, parseTimeBound };

/** A fixed-width table for people. */
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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--principal <principal>', 'only records of this principal')
    .option('--since <time>', 'only records at or after this time: 30m, 1h, 7d or ISO-8601')
    .option('--until <time>', 'only records before this time: 30m, 1h, 7d or ISO-8601')
    .option('--tool <tool>', 'only calls of this tool')
    .option('--decision <decision>', 'only this decision: allow, deny, confirm or error');
}

export function register(program: Command, io: CliIo = defaultIo): void {
  const audit = program.command('audit').description('verify, search, export and erase the audit log');

  /** Runs an action with the store open, mapping failures to messages and exit codes. */
  const run = async (
    dataDirFlag: string | undefined,
    action: (store: AuditStore, dataDir: string) => Promise<void>,
  ) => {
    try {
      const dataDir = resolveDataDir(dataDirFlag);
      const file = path.join(dataDir, 'audit.db');
      if (!existsSync(file)) throw new CliUsageError(`no audit log at ${file} (is --data-dir right?)`);
      const store = openSqliteAuditStore({ file });
      try {
        await action(store, dataDir);
      } finally {
        await store.close();
      }
    } catch (err) {
      io.err.write(`portcullis audit: ${err instanceof Error ? err.message : String(err)}\n`);
      io.setExitCode(err instanceof CliUsageError || err instanceof AuditQueryError ? 2 : 1);
    }
  };

  withDataDir(
    audit
      .command('verify')
      .description(
        'check the hash chain, checkpoints and signed head; exit 1 and name the first broken record',
      ),
  ).action((opts: { dataDir?: string }) =>
    run(opts.dataDir, async (store, dataDir) => {
      const keys = await loadAuditKeys(path.join(dataDir, 'keys'));
      const result = await verifyAuditStore(store, keys.publicKey);
      if (result.ok) {
        const first = result.count === 0 ? undefined : result.lastSeq - result.count + 1;
        io.out.write(
          result.count === 0
            ? 'audit log intact: no records\n'
            : `audit log intact: ${result.count} records (seq ${first}–${result.lastSeq}), ${result.erased} erased\n`,
        );
        return;
      }
      io.out.write(
        `audit log BROKEN at seq ${result.firstBrokenSeq}: ${result.problem} — ${result.detail}\n`,
      );
      io.setExitCode(1);
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
  ).action((opts: FilterOptions & { limit: string; json?: boolean; dataDir?: string }) =>
    run(opts.dataDir, async (store) => {
      const query: AuditQuery = {
        ...parseFilters(opts, io.now()),
        limit: parseLimit(opts.limit),
        newest: true,
      };
      const records = await store.query(query);
      io.out.write(opts.json ? records.map((r) => `${JSON.stringify(r)}\n`).join('') : formatTable(records));
    }),
  );

  withDataDir(
    addFilterOptions(
      audit.command('export').description('write every matching record to stdout as JSON lines'),
    ),
  ).action((opts: FilterOptions & { dataDir?: string }) =>
    run(opts.dataDir, async (store) => {
      await exportJsonl(store, parseFilters(opts, io.now()), io.out);
    }),
  );

  withDataDir(
    audit
      .command('erase')
      .description("erase a principal's personal data from the log (the chain still verifies)")
      .requiredOption('--principal <principal>', 'the principal whose data is erased'),
  ).action((opts: { principal: string; dataDir?: string }) =>
    run(opts.dataDir, async (store) => {
      const count = await store.erasePrincipal(opts.principal);
      io.out.write(
        count === 0
          ? `no records of principal "${opts.principal}" to erase\n`
          : `erased the personal data (principal, tenant, client, credential, session, arguments) of ${count} records of principal "${opts.principal}"; their hashes are kept, so the chain still verifies\n`,
      );
    }),
  );
}
