import fs from 'node:fs';
import type { Command } from 'commander';
import { isLoopbackHost } from '../../config/index.js';
import { createClient, listClients, revokeClient } from '../../oauth/index.js';
import { openLocalOAuth } from '../open-local.js';
import { withAdminAudit } from '../local-audit.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printJson, printJsonLines, printOut, printTable, text } from '../print.js';
import { UsageError } from '../usage-error.js';
import { parseScopes } from './keys.js';

/** OAuth 2.1 §2.3.1 / RFC 8252: https, http only on loopback, or a private-use scheme for native apps. */
function checkRedirectUri(uri: string): string {
  const url = URL.parse(uri);
  if (!url || url.hash)
    throw new UsageError(`invalid --redirect-uri "${uri}" (an absolute URI without #fragment)`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new UsageError(`--redirect-uri "${uri}" must use https (plain http only on loopback)`);
  }
  return uri;
}

const GRANTS = ['client_credentials', 'authorization_code'] as const;
const METHODS = ['client_secret_basic', 'private_key_jwt', 'none'] as const;

export function register(program: Command): void {
  const clients = program
    .command('clients')
    .description('Manage OAuth clients of the built-in authorization server.');

  withDataDir(
    clients
      .command('create')
      .description('Create an OAuth client; a client secret is printed once and stored only as a hash.')
      .requiredOption('--name <name>', 'the name people see on the consent page')
      .requiredOption(
        '--grant <grant>',
        'client_credentials (server to server) or authorization_code (for people)',
      )
      .requiredOption(
        '--scopes <list>',
        'comma-separated scopes the client may ever receive, e.g. memory:read',
      )
      .option(
        '--redirect-uri <uri>',
        'redirect URI (repeatable; authorization_code only)',
        (v: string, all: string[]) => [...all, v],
        [],
      )
      .option(
        '--auth-method <method>',
        'client_secret_basic (default), private_key_jwt, or none (public client)',
      )
      .option('--jwks-file <file>', "the client's public JWK set, for private_key_jwt")
      .option('--json', 'print a JSON object'),
  ).action(
    async (opts: {
      dataDir?: string;
      name: string;
      grant: string;
      scopes: string;
      redirectUri: string[];
      authMethod?: string;
      jwksFile?: string;
      json?: boolean;
    }) => {
      const grant = GRANTS.find((g) => g === opts.grant);
      if (!grant) throw new UsageError(`--grant must be one of ${GRANTS.join(', ')}`);
      const authMethod = METHODS.find((m) => m === (opts.authMethod ?? 'client_secret_basic'));
      if (!authMethod) throw new UsageError(`--auth-method must be one of ${METHODS.join(', ')}`);
      if (opts.name.trim() === '' || opts.name.length > 100)
        throw new UsageError('--name must be 1–100 characters');
      const scopes = parseScopes(opts.scopes);
      const redirectUris = opts.redirectUri.map(checkRedirectUri);
      if (grant === 'authorization_code' && redirectUris.length === 0) {
        throw new UsageError('authorization_code clients need at least one --redirect-uri');
      }
      if (grant === 'client_credentials' && (redirectUris.length > 0 || authMethod === 'none')) {
        throw new UsageError('client_credentials clients take no --redirect-uri and must authenticate');
      }
      if ((authMethod === 'private_key_jwt') !== (opts.jwksFile !== undefined)) {
        throw new UsageError('--jwks-file goes with --auth-method private_key_jwt, and only with it');
      }
      let jwks: { keys: Record<string, unknown>[] } | undefined;
      if (opts.jwksFile) {
        try {
          jwks = JSON.parse(fs.readFileSync(opts.jwksFile, 'utf8')) as { keys: Record<string, unknown>[] };
        } catch (err) {
          throw new UsageError(`cannot read --jwks-file: ${String(err)}`);
        }
        if (!Array.isArray(jwks.keys) || jwks.keys.some((k) => 'd' in k)) {
          throw new UsageError(
            '--jwks-file must be a JWK set of public keys ({"keys":[…]}, no private parts)',
          );
        }
      }
      const dataDir = resolveDataDir(opts.dataDir);
      const db = await openLocalOAuth(dataDir);
      try {
        const created = await withAdminAudit(dataDir, async (audit) => {
          const made = await createClient(
            db.oauth,
            { name: opts.name.trim(), grant, redirectUris, scopes, authMethod, ...(jwks ? { jwks } : {}) },
            new Date(),
          );
          await audit.record({
            reason: 'client-created',
            clientId: made.clientId,
            details: { name: opts.name.trim(), grant, scopes, redirectUris, authMethod },
          });
          return made;
        });
        if (opts.json) {
          printJson({
            client_id: created.clientId,
            ...(created.clientSecret ? { client_secret: created.clientSecret } : {}),
            grant,
            token_endpoint_auth_method: authMethod,
            scopes,
            redirect_uris: redirectUris,
          });
        } else {
          printOut(
            text`Created client ${created.clientId} (${opts.name.trim()}) with scopes ${scopes.join(', ')}.\n`,
          );
          if (created.clientSecret) {
            printOut(text`Its client secret is shown only this once:\n\n  ${created.clientSecret}\n\n`);
          }
        }
      } finally {
        await db.close();
      }
    },
  );

  withDataDir(
    clients
      .command('list')
      .description('List registered and operator-created clients.')
      .option('--json', 'JSON lines'),
  ).action(async (opts: { dataDir?: string; json?: boolean }) => {
    const db = await openLocalOAuth(resolveDataDir(opts.dataDir));
    try {
      const rows = await listClients(db.oauth);
      if (opts.json) {
        printJsonLines(rows);
        return;
      }
      if (rows.length === 0) {
        printOut('No clients. (Clients using metadata documents are not stored; see `grants list`.)\n');
        return;
      }
      printTable(
        ['CLIENT ID', 'NAME', 'GRANTS', 'AUTH', 'SCOPES', 'CREATED BY'],
        rows.map((r) => [
          r.clientId,
          r.name,
          r.grantTypes.join(','),
          r.authMethod,
          r.scopes === 'any' ? '(consented)' : r.scopes.join(','),
          r.registeredBy,
        ]),
      );
    } finally {
      await db.close();
    }
  });

  withDataDir(
    clients
      .command('revoke')
      .description(
        'Revoke a client: its registration, grants and tokens; its tokens fail on their next call.',
      )
      .argument('<client-id>', 'client id (or a metadata-document URL)'),
  ).action(async (clientId: string, opts: { dataDir?: string }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const db = await openLocalOAuth(dataDir);
    try {
      const known = await withAdminAudit(dataDir, async (audit) => {
        const found = await revokeClient(db.oauth, clientId, new Date());
        await audit.record({ reason: 'client-revoked', clientId, details: { known: found } });
        return found;
      });
      printOut(
        known
          ? text`Revoked client ${clientId}; its tokens are refused from their next call.\n`
          : text`No stored client or grant had the id ${clientId}; it is blocked from now on anyway.\n`,
      );
    } finally {
      await db.close();
    }
  });
}
