import type { Command } from 'commander';
import type { QuarantineItem, QuarantineStatus } from '../../storage/index.js';
import { openLocalStorage } from '../open-local.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printJson, printJsonLines, printOut, text } from '../print.js';
import { UsageError } from '../usage-error.js';

const STATUSES: readonly QuarantineStatus[] = ['pending', 'released', 'discarded'];

function summary(i: QuarantineItem) {
  return {
    id: i.id,
    status: i.status,
    tool: i.tool,
    principal: i.principal,
    tenant: i.tenant,
    correlationId: i.correlationId,
    createdAt: i.createdAt.toISOString(),
    decidedAt: i.decidedAt?.toISOString() ?? null,
    findings: JSON.parse(i.findings) as unknown,
  };
}

async function withItem<T>(
  dataDir: string | undefined,
  id: string,
  fn: (item: QuarantineItem, s: Awaited<ReturnType<typeof openLocalStorage>>) => Promise<T>,
) {
  const storage = await openLocalStorage(resolveDataDir(dataDir));
  try {
    const item = await storage.quarantine.get(id);
    if (!item) throw new UsageError(`no quarantined result with id ${id}`);
    return await fn(item, storage);
  } finally {
    await storage.close();
  }
}

/**
 * `portcullis quarantine …`: review tool results the injection detector withheld. Releasing
 * prints the withheld result for the reviewer to pass on; discarding deletes its content.
 */
export function register(program: Command): void {
  const q = program
    .command('quarantine')
    .description('Review tool results withheld by the injection detector.');

  withDataDir(
    q
      .command('list')
      .description('List quarantined results (newest first).')
      .option('--status <status>', `pending, released or discarded (default: all)`)
      .option('--limit <n>', 'most items to show', '100')
      .option('--json', 'JSON lines'),
  ).action(async (opts: { dataDir?: string; status?: string; limit: string; json?: boolean }) => {
    if (opts.status !== undefined && !(STATUSES as readonly string[]).includes(opts.status)) {
      throw new UsageError(`invalid --status "${opts.status}" (pending, released or discarded)`);
    }
    const limit = Number(opts.limit);
    if (!/^\d+$/.test(opts.limit) || limit < 1 || limit > 10_000)
      throw new UsageError('--limit must be 1–10000');
    const storage = await openLocalStorage(resolveDataDir(opts.dataDir));
    try {
      const items = await storage.quarantine.list({
        ...(opts.status ? { status: opts.status as QuarantineStatus } : {}),
        limit,
      });
      if (opts.json) {
        printJsonLines(items.map(summary));
      } else if (items.length === 0) {
        printOut('Nothing quarantined.\n');
      } else {
        for (const i of items) {
          printOut(
            text`${i.id}  ${i.status.padEnd(9)}  ${i.createdAt.toISOString()}  ${i.tool}  ${i.principal}\n`,
          );
        }
      }
    } finally {
      await storage.close();
    }
  });

  withDataDir(
    q.command('show').description('Show a quarantined result and why it was withheld.').argument('<id>'),
  ).action((id: string, opts: { dataDir?: string }) =>
    withItem(opts.dataDir, id, async (item) => {
      printJson({ ...summary(item), result: item.result && (JSON.parse(item.result) as unknown) }, 2);
    }),
  );

  withDataDir(
    q
      .command('release')
      .description('Release a pending result and print it (JSON) for the reviewer to pass on.')
      .argument('<id>'),
  ).action((id: string, opts: { dataDir?: string }) =>
    withItem(opts.dataDir, id, async (item, storage) => {
      if (!(await storage.quarantine.decide(id, 'released', new Date()))) {
        throw new UsageError(`${id} is ${item.status}, not pending`);
      }
      // The withheld result is JSON text stored as the tool returned it: re-encoded so the
      // reviewer's terminal sees its hidden characters as escapes.
      printJson(item.result === null ? null : (JSON.parse(item.result) as unknown));
    }),
  );

  withDataDir(
    q.command('discard').description('Discard a pending result; its content is deleted.').argument('<id>'),
  ).action((id: string, opts: { dataDir?: string }) =>
    withItem(opts.dataDir, id, async (item, storage) => {
      if (!(await storage.quarantine.decide(id, 'discarded', new Date()))) {
        throw new UsageError(`${id} is ${item.status}, not pending`);
      }
      printOut(text`Discarded ${id}.\n`);
    }),
  );
}
