import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { disableUser, openOAuthForDataDir } from '../../oauth/index.js';
import { hashPassword, USER_NAME_PATTERN } from '../../users/index.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { UsageError } from '../usage-error.js';
import { printTable } from './clients.js';

const MIN_PASSWORD = 12;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
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
      .option('--tenant <tenant>', 'whose data the person reaches (default: their name)'),
  ).action(async (name: string, opts: { dataDir?: string; passwordStdin?: boolean; tenant?: string }) => {
    if (!USER_NAME_PATTERN.test(name))
      throw new UsageError(`invalid name "${name}" (letters, digits, . _ @ + -; up to 128)`);
    if (opts.tenant !== undefined && !USER_NAME_PATTERN.test(opts.tenant))
      throw new UsageError(`invalid --tenant "${opts.tenant}"`);
    const generated = !opts.passwordStdin;
    const password = generated ? randomBytes(15).toString('base64url') : await readStdin();
    if (password.length < MIN_PASSWORD)
      throw new UsageError(`the password must be at least ${MIN_PASSWORD} characters`);
    const db = openOAuthForDataDir(resolveDataDir(opts.dataDir));
    try {
      if (await db.users.find(name)) throw new UsageError(`a user named ${name} exists already`);
      await db.users.insert({
        name,
        tenant: opts.tenant ?? name,
        passwordHash: await hashPassword(password),
        federatedIssuer: null,
        federatedSubject: null,
        createdAt: new Date(),
        disabledAt: null,
        lastLoginAt: null,
      });
      process.stdout.write(
        generated
          ? `Added user ${name}. Their password is shown only this once:\n\n  ${password}\n\n`
          : `Added user ${name}.\n`,
      );
    } finally {
      await db.close();
    }
  });

  withDataDir(
    users.command('list').description('List users (never their passwords).').option('--json', 'JSON lines'),
  ).action(async (opts: { dataDir?: string; json?: boolean }) => {
    const db = openOAuthForDataDir(resolveDataDir(opts.dataDir));
    try {
      const rows = (await db.users.list()).map((u) => ({
        name: u.name,
        tenant: u.tenant,
        kind: u.federatedIssuer ? 'federated' : 'local',
        status: u.disabledAt ? 'disabled' : 'active',
        createdAt: u.createdAt.toISOString(),
        lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
      }));
      if (opts.json) {
        process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('No users. Add one with `portcullis users add NAME`.\n');
        return;
      }
      printTable(
        ['NAME', 'TENANT', 'KIND', 'STATUS', 'LAST LOGIN'],
        rows.map((r) => [r.name, r.tenant, r.kind, r.status, r.lastLoginAt ?? '-']),
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
    const db = openOAuthForDataDir(resolveDataDir(opts.dataDir));
    try {
      if (!(await disableUser(db.users, db.oauth, name, new Date())))
        throw new UsageError(`no user named ${name}`);
      process.stdout.write(`Disabled ${name}; every app connected to the account is disconnected.\n`);
    } finally {
      await db.close();
    }
  });
}
