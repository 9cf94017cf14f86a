import type { Command } from 'commander';
import { openLocalOAuth } from '../open-local.js';
import { withAdminAudit } from '../local-audit.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { UsageError } from '../usage-error.js';
import { printJsonLines, printOut, printTable, text } from '../print.js';

export function register(program: Command): void {
  const grants = program
    .command('grants')
    .description('Consents people gave to clients (what "connected apps" shows).');

  withDataDir(
    grants
      .command('list')
      .description('List live grants, newest first.')
      .option('--user <name>', 'only this person’s grants')
      .option('--json', 'JSON lines'),
  ).action(async (opts: { dataDir?: string; user?: string; json?: boolean }) => {
    const db = await openLocalOAuth(resolveDataDir(opts.dataDir));
    try {
      const rows = await db.oauth.listGrants(opts.user ? { accountId: opts.user } : {}, new Date());
      if (opts.json) {
        printJsonLines(
          rows.map((g) => ({
            ...g,
            createdAt: g.createdAt.toISOString(),
            expiresAt: g.expiresAt?.toISOString() ?? null,
          })),
        );
        return;
      }
      if (rows.length === 0) {
        printOut('No grants.\n');
        return;
      }
      printTable(
        ['ID', 'USER', 'CLIENT', 'SCOPES', 'SINCE'],
        rows.map((g) => [g.id, g.accountId, g.clientId, g.scopes.join(','), g.createdAt.toISOString()]),
      );
    } finally {
      await db.close();
    }
  });

  withDataDir(
    grants
      .command('revoke')
      .description("Revoke a grant and every token issued under it; the client's next call is refused.")
      .argument('<id>', 'grant id'),
  ).action(async (id: string, opts: { dataDir?: string }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const db = await openLocalOAuth(dataDir);
    try {
      const grant = await db.oauth.find('Grant', id, new Date());
      if (!grant) throw new UsageError(`no live grant with id ${id}`);
      await withAdminAudit(dataDir, async (audit) => {
        await db.oauth.revokeByGrantId(id);
        await audit.record({
          reason: 'grant-revoked',
          credentialId: id,
          clientId: String(grant.clientId),
          details: { account: String(grant.accountId) },
        });
      });
      printOut(text`Revoked grant ${id} (${String(grant.accountId)} → ${String(grant.clientId)}).\n`);
    } finally {
      await db.close();
    }
  });
}
