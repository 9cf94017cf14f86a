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
  type AuditDecision,
  type AuditQuery,
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

const DECISIONS: readonly AuditDecision[] = ['allow', 'deny', 'confirm', 'error'];
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/** `30m`, `1h`, `7d`, `2w` (that long before `now`) or an ISO-8601 date/time, as ISO-8601 UTC. */
export function parseTimeBound(value: string, now: Date): string {
  const relative = /^(\d+)([smhdw])$/.exec(value.trim());
  if (relative) {
    return new Date(
      now.getTime() - Number(relative[1]) * (UNIT_MS[relative[2] as string] as number),
    ).toISOString();
  }
  const time = ISO_DATE.test(value.trim()) ? Date.parse(value.trim()) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new CliUsageError(
      `invalid time "${value}": use a duration such as 30m, 1h, 7d or an ISO-8601 date`,
    );
  }
  return new Date(time).toISOString();
}

export function parseDecision(value: string): AuditDecision {
  if ((DECISIONS as readonly string[]).includes(value)) return value as AuditDecision;
  throw new CliUsageError(`invalid decision "${value}": use one of ${DECISIONS.join(', ')}`);
}

export function parseLimit(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 100_000) {
    throw new CliUsageError(`invalid limit "${value}": use a whole number from 1 to 100000`);
  }
  return n;
}

interface FilterOptions {
  principal?: string;
  since?: string;
  until?: string;
  tool?: string;
  decision?: string;
}

/** The query filters from the command-line options. */
export function parseFilters(opts: FilterOptions, now: Date): Omit<AuditQuery, 'limit'> {
  const filters: { -readonly [K in keyof AuditQuery]?: AuditQuery[K] } = {};
  if (opts.principal !== undefined) filters.principal = opts.principal;
  if (opts.since !== undefined) filters.since = parseTimeBound(opts.since, now);
  if (opts.until !== undefined) filters.until = parseTimeBound(opts.until, now);
  if (opts.tool !== undefined) filters.tool = opts.tool;
  if (opts.decision !== undefined) filters.decision = parseDecision(opts.decision);
  if (filters.since !== undefined && filters.until !== undefined && filters.since >= filters.until) {
    throw new CliUsageError('--since must be before --until');
  }
  return filters;
}

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
      io.setExitCode(err instanceof CliUsageError ? 2 : 1);
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
