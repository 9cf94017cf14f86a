import type { Command } from 'commander';
import {
  loadKek,
  openVault,
  rewrapVault,
  kekId,
  writeNewKekFile,
  parseKek,
} from '../../connections/index.js';
import { loadConfig } from '../../config/index.js';
import { dataDirLayout } from '../../data-dir/index.js';
import { resolveSecretAsync, secretRefSchema } from '../../secrets/index.js';
import type { ConnectionRecord } from '../../storage/index.js';
import { withAdminAudit } from '../local-audit.js';
import { openLocalStorage } from '../open-local.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printJsonLines, printOut, printTable, text } from '../print.js';
import { UsageError } from '../usage-error.js';

const UPSTREAM = /^[a-z0-9][a-z0-9-]{0,31}$/;
const CONNECTION_ID = /^conn_[A-Za-z0-9_-]{16}$/;

/** A connection as the CLI shows it: never the sealed value. */
function publicView(r: ConnectionRecord) {
  return {
    id: r.id,
    user: r.subject,
    tenant: r.tenant,
    upstream: r.upstream,
    mode: r.mode,
    state: r.state,
    upstreamSubject: r.upstreamSubject,
    scopes: r.scopes,
    createdAt: r.createdAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    expiresAt: r.expiresAt?.toISOString() ?? null,
  };
}

export function register(program: Command): void {
  const connections = program
    .command('connections')
    .description("People's own upstream credentials (see docs/upstreams.md). Values are never shown.");

  withDataDir(
    connections
      .command('list')
      .description('List connections: who, which upstream, state, upstream identity (never the credential).')
      .option('--user <name>', 'only this person')
      .option('--upstream <name>', 'only this upstream')
      .option('--json', 'JSON lines'),
  ).action(async (opts: { dataDir?: string; user?: string; upstream?: string; json?: boolean }) => {
    if (opts.upstream !== undefined && !UPSTREAM.test(opts.upstream))
      throw new UsageError(`invalid upstream name "${opts.upstream}"`);
    const storage = await openLocalStorage(resolveDataDir(opts.dataDir));
    try {
      const rows = (
        await storage.connections.list({
          ...(opts.user !== undefined ? { subject: opts.user } : {}),
          ...(opts.upstream !== undefined ? { upstream: opts.upstream } : {}),
        })
      ).map(publicView);
      if (opts.json) return printJsonLines(rows);
      if (rows.length === 0) return printOut('No connections.\n');
      printTable(
        ['ID', 'USER', 'UPSTREAM', 'MODE', 'STATE', 'AS', 'LAST USED'],
        rows.map((r) => [
          r.id,
          r.user,
          r.upstream,
          r.mode,
          r.state,
          r.upstreamSubject ?? '-',
          r.lastUsedAt ?? '-',
        ]),
      );
    } finally {
      await storage.close();
    }
  });

  withDataDir(
    connections
      .command('revoke')
      .description(
        "Delete a connection (or every connection of --user): the person's next call to that upstream is " +
          "refused until they connect again. Tokens are not revoked at the upstream's server from here; " +
          'Disconnect on the connections page does that.',
      )
      .argument('[id]', 'connection id (conn_…)')
      .option('--user <name>', 'every connection of this person (erasure)'),
  ).action(async (id: string | undefined, opts: { dataDir?: string; user?: string }) => {
    if ((id === undefined) === (opts.user === undefined))
      throw new UsageError('give a connection id or --user, not both');
    if (id !== undefined && !CONNECTION_ID.test(id)) throw new UsageError(`invalid connection id "${id}"`);
    const dataDir = resolveDataDir(opts.dataDir);
    const storage = await openLocalStorage(dataDir);
    try {
      const removed = await withAdminAudit(dataDir, async (audit) => {
        const targets = id
          ? [await storage.connections.get(id)].filter((r): r is ConnectionRecord => r !== undefined)
          : await storage.connections.list({ subject: opts.user! });
        if (id && targets.length === 0) throw new UsageError(`no connection with id ${id}`);
        for (const r of targets) {
          await storage.connections.delete(r.id);
          await audit.record({
            reason: 'connection-revoked',
            credentialId: r.id,
            tenant: r.tenant,
            upstream: r.upstream,
          });
        }
        return targets;
      });
      printOut(
        removed.length === 0
          ? text`${opts.user ?? ''} has no connections.\n`
          : removed.map((r) => text`Revoked connection ${r.id} (${r.subject}, ${r.upstream}).\n`).join(''),
      );
    } finally {
      await storage.close();
    }
  });
}

/**
 * `keys rotate-vault`: a new key-encryption key for the connections vault. The data key is
 * wrapped under it too (one small write; no stored credential is re-encrypted), so running
 * gateways, which hold the unwrapped data key, never stop. Default KEK file: replaced at once,
 * old wraps retired. A configured reference: `--to REF` adds the wrap and keeps the old one until
 * `--retire`, after every replica is configured with REF.
 */
export function registerRotateVault(keys: Command): void {
  withDataDir(
    keys
      .command('rotate-vault')
      .description(
        "Rotate the key-encryption key of the connections vault without downtime (the vault's data key is " +
          're-wrapped; stored credentials are untouched).',
      )
      .option(
        '--to <ref>',
        'the new key as a reference (env:, file:, vault:) when connections.keyEncryptionKey is set',
      )
      .option(
        '--retire',
        'drop the wraps under every key but the configured one (the end of a --to rotation)',
      ),
  ).action(async (opts: { dataDir?: string; to?: string; retire?: boolean }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const config = loadConfig({ file: dataDirLayout(dataDir).config, required: true });
    const layout = dataDirLayout(dataDir, config.keys.dir);
    const ref = config.connections.keyEncryptionKey;
    const storage = await openLocalStorage(dataDir);
    try {
      const current = await loadKek({ ref, keysDir: layout.keys, env: process.env });
      await withAdminAudit(dataDir, async (audit) => {
        if (opts.retire) {
          await openVault(storage.connections, current, new Date());
          const n = await storage.connections.retireDataKeys(kekId(current));
          await audit.record({ reason: 'vault-key-retired', credentialId: kekId(current) });
          printOut(text`Retired ${String(n)} wrap(s); only key ${kekId(current)} opens the vault now.\n`);
          return;
        }
        if (ref && !opts.to)
          throw new UsageError('connections.keyEncryptionKey is set: give the new key with --to REF');
        if (!ref && opts.to)
          throw new UsageError('--to is for a configured key; the default key file is rotated in place');
        const nextRef = opts.to === undefined ? undefined : secretRefSchema.safeParse(opts.to);
        if (nextRef && !nextRef.success)
          throw new UsageError('--to must be a reference: env:NAME, file:/path or vault:mount/path#key');
        const next = nextRef?.data
          ? parseKek(await resolveSecretAsync(nextRef.data, { env: process.env }), nextRef.data)
          : undefined;
        if (next) {
          const r = await rewrapVault(storage.connections, current, next, new Date());
          await audit.record({ reason: 'vault-key-rotated', credentialId: r.to, details: { from: r.from } });
          printOut(
            text`The vault opens under ${r.to} as well as ${r.from}. Set connections.keyEncryptionKey to ${opts.to}, ` +
              'restart or roll every replica, then run `portcullis keys rotate-vault --retire`.\n',
          );
          return;
        }
        // Default file: wrap under a new key first, then replace the file, then retire the old wrap,
        // so a crash at any step leaves a file whose key opens the vault.
        const r = await writeNewKekFile(layout.keys, (key) =>
          rewrapVault(storage.connections, current, key, new Date()),
        );
        await storage.connections.retireDataKeys(r.to);
        await audit.record({ reason: 'vault-key-rotated', credentialId: r.to, details: { from: r.from } });
        printOut(
          text`Rotated the vault key: ${r.from} → ${r.to} (keys/connections-kek). Running gateways are unaffected.\n`,
        );
      });
    } finally {
      await storage.close();
    }
  });
}
