import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { dataDirLayout } from '../../data-dir/index.js';
import { disableUser } from '../../oauth/index.js';
import { openLocalOAuth, openLocalStorage } from '../open-local.js';
import { compilePolicy, DEFAULT_PERSON_ROLE } from '../../policy/index.js';
import {
  hashPassword,
  issueSetupLink,
  MIN_PASSWORD_LENGTH,
  setupLinkUrl,
  USER_NAME_PATTERN,
} from '../../users/index.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { withAdminAudit } from '../local-audit.js';
import { UsageError } from '../usage-error.js';
import { printErr, printJsonLines, printOut, printTable, text } from '../print.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * Refuses a role the data directory's configuration does not define (built-in or
 * `policy.roles`): a person with an unknown role would silently hold nothing.
 */
function checkRole(dataDir: string, role: string): void {
  const config = loadConfig({ file: dataDirLayout(dataDir).config, required: true });
  const known = [...compilePolicy(config.policy).roles.keys()].sort();
  if (!known.includes(role)) throw new UsageError(`unknown role "${role}" (known: ${known.join(', ')})`);
}

/** The configured identity provider's issuer, which a linked person's sign-ins must come from. */
function federationIssuer(dataDir: string): string {
  const config = loadConfig({ file: dataDirLayout(dataDir).config, required: true });
  const issuer = config.oauth.federation?.issuer;
  if (!issuer) throw new UsageError('--federated-subject needs oauth.federation configured');
  return issuer;
}

export function register(program: Command): void {
  const users = program
    .command('users')
    .description('Manage the people who log in to the authorization server.');

  withDataDir(
    users
      .command('add')
      .description('Add a local user; without --password-stdin a password is generated and printed once.')
      .argument('<name>', 'account name (becomes the OAuth subject and owns the person’s data)')
      .option('--password-stdin', 'read the password from standard input')
      .option(
        '--federated-subject <sub>',
        'link the person to this `sub` at the identity provider of oauth.federation: they sign in there, with no ' +
          'password here (needed when the name already holds keys or notes)',
      )
      .option('--tenant <tenant>', 'whose data the person reaches (default: their name)')
      .option(
        '--role <role>',
        `the ceiling of what their apps and keys may do: admin, member or a policy.roles name (default: ${DEFAULT_PERSON_ROLE})`,
      ),
  ).action(
    async (
      name: string,
      opts: {
        dataDir?: string;
        passwordStdin?: boolean;
        federatedSubject?: string;
        tenant?: string;
        role?: string;
      },
    ) => {
      if (!USER_NAME_PATTERN.test(name))
        throw new UsageError(`invalid name "${name}" (letters, digits, . _ @ + -; up to 128)`);
      if (opts.tenant !== undefined && !USER_NAME_PATTERN.test(opts.tenant))
        throw new UsageError(`invalid --tenant "${opts.tenant}"`);
      const federatedSubject = opts.federatedSubject;
      if (federatedSubject !== undefined && (opts.passwordStdin || federatedSubject === ''))
        throw new UsageError('--federated-subject takes a non-empty `sub` and no password');
      const dataDir = resolveDataDir(opts.dataDir);
      const db = await openLocalOAuth(dataDir);
      try {
        const role = opts.role ?? DEFAULT_PERSON_ROLE;
        checkRole(dataDir, role);
        const federatedIssuer = federatedSubject === undefined ? null : federationIssuer(dataDir);
        // A linked person signs in at the identity provider only; a local one gets a password.
        const generated = federatedIssuer === null && !opts.passwordStdin;
        const password =
          federatedIssuer !== null
            ? ''
            : generated
              ? randomBytes(15).toString('base64url')
              : await readStdin();
        if (federatedIssuer === null && password.length < MIN_PASSWORD_LENGTH)
          throw new UsageError(`the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
        if (await db.users.find(name)) throw new UsageError(`a user named ${name} exists already`);
        const passwordHash = federatedIssuer === null ? await hashPassword(password) : null;
        const tenant = opts.tenant ?? name;
        await withAdminAudit(dataDir, async (audit) => {
          await db.users.insert({
            name,
            tenant,
            passwordHash,
            federatedIssuer,
            federatedSubject: federatedSubject ?? null,
            role,
            createdAt: new Date(),
            disabledAt: null,
            lastLoginAt: null,
          });
          await audit.record({
            reason: 'user-added',
            tenant,
            details: { user: name, role, ...(federatedIssuer ? { federatedIssuer, federatedSubject } : {}) },
          });
        });
        printOut(
          generated
            ? text`Added user ${name} (role ${role}). Their password is shown only this once:\n\n  ${password}\n\n`
            : federatedIssuer
              ? text`Added user ${name} (role ${role}), who signs in as ${federatedSubject} at ${federatedIssuer}.\n`
              : text`Added user ${name} (role ${role}).\n`,
        );
      } finally {
        await db.close();
      }
    },
  );

  withDataDir(
    users
      .command('set-role')
      .description(
        'Change a person’s role. Lowering it applies at their next request: every key they own and every ' +
          'token of theirs is capped to the new role, and the next token or refresh gets no more.',
      )
      .argument('<name>', 'account name')
      .argument('<role>', 'admin, member or a policy.roles name'),
  ).action(async (name: string, role: string, opts: { dataDir?: string }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const db = await openLocalOAuth(dataDir);
    try {
      checkRole(dataDir, role);
      const user = await db.users.find(name);
      if (!user) throw new UsageError(`no user named ${name}`);
      if (user.federatedIssuer) {
        printErr(
          text`portcullis: ${name} signs in through the identity provider; oauth.federation.roles sets their role again at their next sign-in.\n`,
        );
      }
      await withAdminAudit(dataDir, async (audit) => {
        await db.users.setRole(name, role);
        await audit.record({
          reason: 'role-changed',
          tenant: user.tenant,
          details: { user: name, role, previousRole: user.role },
        });
      });
      printOut(text`${name} now has the role ${role} (was ${user.role ?? 'none'}).\n`);
    } finally {
      await db.close();
    }
  });

  withDataDir(
    users.command('list').description('List users (never their passwords).').option('--json', 'JSON lines'),
  ).action(async (opts: { dataDir?: string; json?: boolean }) => {
    const db = await openLocalOAuth(resolveDataDir(opts.dataDir));
    try {
      const rows = (await db.users.list()).map((u) => ({
        name: u.name,
        tenant: u.tenant,
        kind: u.federatedIssuer ? 'federated' : 'local',
        role: u.role,
        status: u.disabledAt ? 'disabled' : 'active',
        createdAt: u.createdAt.toISOString(),
        lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
      }));
      if (opts.json) {
        printJsonLines(rows);
        return;
      }
      if (rows.length === 0) {
        printOut('No users. Add one with `portcullis users add NAME`.\n');
        return;
      }
      printTable(
        ['NAME', 'TENANT', 'KIND', 'ROLE', 'STATUS', 'LAST LOGIN'],
        rows.map((r) => [r.name, r.tenant, r.kind, r.role ?? '-', r.status, r.lastLoginAt ?? '-']),
      );
    } finally {
      await db.close();
    }
  });

  withDataDir(
    users
      .command('reset-link')
      .description(
        'Make a one-time link (15 minutes, works once) where a local person sets a new password; ' +
          'any earlier link of theirs stops working.',
      )
      .argument('<name>', 'account name')
      .option(
        '--url <url>',
        'the gateway’s address as people reach it (default: server.publicUrl, else host:port)',
      ),
  ).action(async (name: string, opts: { dataDir?: string; url?: string }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const config = loadConfig({ file: dataDirLayout(dataDir).config, required: true });
    let base: URL;
    try {
      const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
      base = new URL(
        opts.url ??
          config.server.publicUrl ??
          `${config.server.tls ? 'https' : 'http'}://${host}:${config.server.port}`,
      );
    } catch {
      throw new UsageError(`--url must be an absolute URL, got ${opts.url}`);
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:')
      throw new UsageError('--url must be http(s)');
    const db = await openLocalOAuth(dataDir);
    try {
      const user = await db.users.find(name);
      if (!user) throw new UsageError(`no user named ${name}`);
      if (user.federatedIssuer)
        throw new UsageError(`${name} signs in through the identity provider; there is no password to set`);
      if (user.disabledAt) throw new UsageError(`${name} is disabled`);
      const link = await withAdminAudit(dataDir, async (audit) => {
        const made = await issueSetupLink(db.users, name, new Date());
        await audit.record({
          reason: 'setup-link-created',
          tenant: user.tenant,
          details: { user: name, expiresAt: made.expiresAt.toISOString() },
        });
        return made;
      });
      printOut(
        text`One-time link for ${name} to set a password (works once, until ${link.expiresAt.toISOString()}):\n\n  ${setupLinkUrl(base, link.token)}\n\n`,
      );
    } finally {
      await db.close();
    }
  });

  withDataDir(
    users
      .command('disable')
      .description(
        'Disable a user: no more logins, every grant withdrawn, their apps refused at the next call.',
      )
      .argument('<name>', 'account name'),
  ).action(async (name: string, opts: { dataDir?: string }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const db = await openLocalOAuth(dataDir);
    try {
      const user = await db.users.find(name);
      if (!user) throw new UsageError(`no user named ${name}`);
      await withAdminAudit(dataDir, async (audit) => {
        if (!(await disableUser(db.users, db.oauth, name, new Date())))
          throw new UsageError(`no user named ${name}`);
        await audit.record({ reason: 'user-disabled', tenant: user.tenant, details: { user: name } });
      });
      printOut(text`Disabled ${name}; every app connected to the account is disconnected.\n`);
    } finally {
      await db.close();
    }
  });

  withDataDir(
    users
      .command('delete')
      .description(
        'Delete a person: their account, sign-in sessions and setup links, every grant, API key and ' +
          'upstream connection. Their audit records stay until `audit erase --principal NAME`.',
      )
      .argument('<name>', 'account name')
      .option('--yes', 'do it (without it, say what would be removed)'),
  ).action(async (name: string, opts: { dataDir?: string; yes?: boolean }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const db = await openLocalOAuth(dataDir);
    const storage = await openLocalStorage(dataDir);
    try {
      const user = await db.users.find(name);
      if (!user) throw new UsageError(`no user named ${name}`);
      const now = new Date();
      // Names are global, so every key owned by the name and every connection of that subject is
      // the person's, whatever tenant it was made under (a key made before the person existed).
      const keys = (await storage.apiKeys.list()).filter((k) => k.owner === name && k.revokedAt === null);
      const connections = await storage.connections.list({ subject: name });
      const grants = await db.oauth.listGrants({ accountId: name }, now);
      if (!opts.yes) {
        printOut(
          text`Would delete ${name} with ${grants.length} grant(s), ${keys.length} API key(s) and ` +
            text`${connections.length} upstream connection(s). Run again with --yes.\n`,
        );
        return;
      }
      await withAdminAudit(dataDir, async (audit) => {
        // Recorded first: if the record cannot be written, nothing is deleted.
        await audit.record({
          reason: 'user-deleted',
          tenant: user.tenant,
          details: { user: name, grants: grants.length, keys: keys.length, connections: connections.length },
        });
        for (const g of grants) await db.oauth.revokeByGrantId(g.id);
        for (const k of keys) await storage.apiKeys.revoke(k.id, now);
        await storage.connections.deleteOf(name);
        await db.users.delete(name);
      });
      printOut(
        text`Deleted ${name}: ${grants.length} grant(s) and ${keys.length} API key(s) revoked, ` +
          text`${connections.length} upstream connection(s) removed (their tokens are not revoked at the upstream; ` +
          text`Disconnect on the connections page does that). Erase their audit data with \`portcullis audit erase --principal ${name}\`.\n`,
      );
    } finally {
      await storage.close();
      await db.close();
    }
  });
}
