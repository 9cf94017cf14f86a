import type { Command } from 'commander';
import { createApiKey, SCOPE_PATTERN as SCOPE } from '../../auth/index.js';
import type { ApiKeyRecord } from '../../storage/index.js';
import { parseDuration } from '../duration.js';
import { withAdminAudit } from '../local-audit.js';
import { openLocalOAuth, openLocalStorage, rotateLocalSigningKey } from '../open-local.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printJson, printJsonLines, printOut, printTable, text } from '../print.js';
import { UsageError } from '../usage-error.js';
import { USER_NAME_PATTERN } from '../../users/index.js';
import { registerRotateVault } from './connections.js';

const NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._@+-]{0,127}$/u;

/** Validates `--scopes a,b` into a list; every scope is a plain `resource:action` token. */
export function parseScopes(text: string): string[] {
  const scopes = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopes.length === 0)
    throw new UsageError('--scopes needs at least one scope, e.g. memory:read,memory:write');
  for (const s of scopes)
    if (!SCOPE.test(s)) throw new UsageError(`invalid scope "${s}" (expected e.g. memory:read)`);
  return scopes;
}

function publicView(r: ApiKeyRecord, now: Date) {
  const status = r.revokedAt ? 'revoked' : r.expiresAt && r.expiresAt <= now ? 'expired' : 'active';
  return {
    id: r.id,
    owner: r.owner,
    tenant: r.tenant,
    label: r.label,
    scopes: r.scopes,
    status,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt?.toISOString() ?? null,
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
  };
}

/**
 * The tenant of a new key. A key acts for its owner, so when the owner is a person the key reaches
 * the person's tenant — the one their apps reach and the approval page checks; anything else would
 * split their data in two and leave them unable to approve their own key's calls. An owner who is
 * no person (a service, a CI job) keeps the owner's name as the tenant unless `--tenant` says.
 */
async function keyTenant(dataDir: string, owner: string, requested: string | undefined): Promise<string> {
  const db = await openLocalOAuth(dataDir);
  let person;
  try {
    person = await db.users.find(owner);
  } finally {
    await db.close();
  }
  if (!person) return requested ?? owner;
  if (requested !== undefined && requested !== person.tenant) {
    throw new UsageError(
      `--tenant ${requested} contradicts ${owner}'s tenant ${person.tenant}; a person's key reaches their tenant (leave --tenant out)`,
    );
  }
  return person.tenant;
}

export function register(program: Command): void {
  const keys = program.command('keys').description('Manage API keys (stored only as hashes).');

  withDataDir(
    keys
      .command('create')
      .description('Create an API key; it is printed once and cannot be shown again.')
      .requiredOption('--owner <name>', 'who the key acts for (its notes belong to this owner)')
      .requiredOption('--scopes <list>', 'comma-separated scopes, e.g. memory:read,memory:write')
      .option('--expires <duration>', 'lifetime such as 30d, 12h, 2w (default: no expiry)')
      .option(
        '--tenant <tenant>',
        'whose data the key reaches; default the owner’s tenant when the owner is a person, else the owner',
      )
      .option('--name <label>', 'a label to recognise the key by', '')
      .option('--json', 'print a JSON object with id and key'),
  ).action(
    async (opts: {
      dataDir?: string;
      owner: string;
      tenant?: string;
      scopes: string;
      expires?: string;
      name: string;
      json?: boolean;
    }) => {
      if (!NAME.test(opts.owner))
        throw new UsageError(`invalid --owner "${opts.owner}" (letters, digits, space . _ @ + -; up to 128)`);
      if (opts.tenant !== undefined && !USER_NAME_PATTERN.test(opts.tenant))
        throw new UsageError(`invalid --tenant "${opts.tenant}"`);
      if (opts.name.length > 200) throw new UsageError('--name is limited to 200 characters');
      const scopes = parseScopes(opts.scopes);
      let expiresAt: Date | null = null;
      if (opts.expires !== undefined) {
        const ms = parseDuration(opts.expires);
        if (ms === undefined) throw new UsageError(`invalid --expires "${opts.expires}" (e.g. 30d, 12h, 2w)`);
        expiresAt = new Date(Date.now() + ms);
      }
      const dataDir = resolveDataDir(opts.dataDir);
      const tenant = await keyTenant(dataDir, opts.owner, opts.tenant);
      const storage = await openLocalStorage(dataDir);
      try {
        const now = new Date();
        const { record, key } = await withAdminAudit(dataDir, async (audit) => {
          const created = await createApiKey(
            storage.apiKeys,
            { owner: opts.owner, tenant, label: opts.name, scopes, expiresAt },
            now,
          );
          const r = created.record;
          await audit.record({
            reason: 'key-created',
            credentialId: r.id,
            tenant: r.tenant,
            details: {
              owner: r.owner,
              label: r.label,
              scopes: [...r.scopes],
              expiresAt: expiresAt?.toISOString() ?? null,
            },
          });
          return created;
        });
        if (opts.json) {
          printJson({ ...publicView(record, now), key });
        } else {
          printOut(
            text`Created API key ${record.id} for ${record.owner} (tenant ${record.tenant}) with scopes ${record.scopes.join(', ')}` +
              `${expiresAt ? text`, expiring ${expiresAt.toISOString()}` : ''}.\n` +
              text`It is shown only this once:\n\n  ${key}\n\n`,
          );
        }
      } finally {
        await storage.close();
      }
    },
  );

  withDataDir(
    keys
      .command('list')
      .description('List API keys (never the keys themselves).')
      .option('--json', 'JSON lines'),
  ).action(async (opts: { dataDir?: string; json?: boolean }) => {
    const storage = await openLocalStorage(resolveDataDir(opts.dataDir));
    try {
      const now = new Date();
      const rows = (await storage.apiKeys.list()).map((r) => publicView(r, now));
      if (opts.json) {
        printJsonLines(rows);
        return;
      }
      if (rows.length === 0) {
        printOut('No API keys.\n');
        return;
      }
      const header = ['ID', 'OWNER', 'STATUS', 'SCOPES', 'LABEL', 'LAST USED'];
      const table = rows.map((r) => [
        r.id,
        r.owner,
        r.status,
        r.scopes.join(','),
        r.label,
        r.lastUsedAt ?? '-',
      ]);
      printTable(header, table);
    } finally {
      await storage.close();
    }
  });

  withDataDir(
    keys
      .command('revoke')
      .description('Revoke an API key; its very next request is refused.')
      .argument('<id>', 'key id'),
  ).action(async (id: string, opts: { dataDir?: string }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const storage = await openLocalStorage(dataDir);
    try {
      await withAdminAudit(dataDir, async (audit) => {
        if (!(await storage.apiKeys.revoke(id, new Date()))) throw new UsageError(`no API key with id ${id}`);
        await audit.record({ reason: 'key-revoked', credentialId: id });
      });
      printOut(text`Revoked API key ${id}.\n`);
    } finally {
      await storage.close();
    }
  });

  registerRotateVault(keys);

  // The OAuth token-signing key (issue #3): a new key signs, old ones stay published until
  // every token they signed has expired.
  withDataDir(
    keys
      .command('rotate-signing')
      .description(
        'Add a new OAuth token-signing key; older keys stay published in the JWKS until their tokens expire. ' +
          'Running gateways that share the key set sign with the new key within keys.reloadSeconds, without a restart.',
      )
      .option(
        '--file <path>',
        'rotate this JWK set file instead (one copied out of the secret store named by keys.tokenSigning)',
      ),
  ).action(async (opts: { dataDir?: string; file?: string }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const rotated = await withAdminAudit(dataDir, async (audit) => {
      const result = rotateLocalSigningKey(dataDir, new Date(), opts.file);
      await audit.record({
        reason: 'signing-key-rotated',
        credentialId: result.added,
        details: { published: result.published },
      });
      return result;
    });
    printOut(
      text`Added signing key ${rotated.added}. Published keys: ${rotated.published.join(', ')}.\n` +
        (opts.file
          ? 'Write the file back to the secret store; gateways read it again within keys.reloadSeconds.\n'
          : 'Running gateways sign with it within keys.reloadSeconds; retired keys are dropped by a later rotation once unused.\n'),
    );
  });
}
