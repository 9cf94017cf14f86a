import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { AUDIT_PG_SCHEMA } from '../../audit/index.js';
import { AUDIT_MIGRATIONS } from '../../audit/index.js';
import { configSchema, loadConfig } from '../../config/index.js';
import { dataDirLayout } from '../../data-dir/index.js';
import { migrate, type MigrationStep, type SqliteSchema } from '../../migrate/index.js';
import { OAUTH_MIGRATIONS, OAUTH_PG_SCHEMA } from '../../oauth/index.js';
import { openSqliteDatabase } from '../../storage/index.js';
import { asPgConfig, CORE_PG_SCHEMA, CORE_SCHEMA, migratePgComponents } from '../../storage/index.js';
import { USER_MIGRATIONS } from '../../users/index.js';
import { USERS_PG_SCHEMA } from '../../users/index.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printJson, printOut } from '../print.js';
import { UsageError } from '../usage-error.js';

/** The SQLite files and the components each holds (the gateway's file and the audit file). */
function sqliteFiles(dataDir: string, sqliteFile: string, auditFile: string): [string, SqliteSchema[]][] {
  return [
    [
      path.resolve(dataDir, sqliteFile),
      [
        CORE_SCHEMA,
        { component: 'oauth', migrations: OAUTH_MIGRATIONS },
        { component: 'users', migrations: USER_MIGRATIONS },
      ],
    ],
    [
      path.resolve(dataDir, auditFile),
      [{ component: 'audit', migrations: AUDIT_MIGRATIONS, legacy: 'version-rows' }],
    ],
  ];
}

const describeStep = (s: MigrationStep, dryRun: boolean) =>
  s.from === s.to
    ? `${s.component}: at version ${s.to}, nothing pending`
    : dryRun
      ? `${s.component}: ${s.to - s.from} pending (version ${s.from} → ${s.to})`
      : `${s.component}: applied ${s.to - s.from} (version ${s.from} → ${s.to})`;

/**
 * `portcullis migrate [--dry-run]`: applies the pending schema migrations of every store (the
 * gateway also applies them at start), or only lists them. A schema newer than this Portcullis is
 * refused with exit 1. On PostgreSQL it runs over `storage.migrateUrl` (else `storage.url`).
 */
export function register(program: Command): void {
  withDataDir(
    program
      .command('migrate')
      .description(
        'Apply the pending database migrations of every store (SQLite files or the PostgreSQL schema); --dry-run lists them and changes nothing.',
      )
      .option('--dry-run', 'list pending migrations; change nothing')
      .option('--json', 'one JSON document'),
  ).action(async (opts: { dataDir?: string; dryRun?: boolean; json?: boolean }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const configFile = dataDirLayout(dataDir).config;
    const config = fs.existsSync(configFile) ? loadConfig({ file: configFile }) : configSchema.parse({});
    const dryRun = opts.dryRun === true;
    const steps: (MigrationStep & { where: string })[] = [];
    if (config.storage.driver === 'memory') {
      throw new UsageError('storage.driver is memory: there is nothing to migrate.');
    } else if (config.storage.driver === 'postgres') {
      const pg = asPgConfig(config.storage);
      const found = await migratePgComponents(
        pg,
        [CORE_PG_SCHEMA, OAUTH_PG_SCHEMA, USERS_PG_SCHEMA, AUDIT_PG_SCHEMA],
        {
          dryRun,
        },
      );
      steps.push(...found.map((s) => ({ ...s, where: `postgres schema ${pg.schema}` })));
    } else {
      for (const [file, components] of sqliteFiles(dataDir, config.storage.sqliteFile, config.audit.file)) {
        if (dryRun && !fs.existsSync(file)) {
          steps.push(
            ...components.map((c) => ({
              component: c.component,
              from: 0,
              to: c.migrations.length,
              where: file,
            })),
          );
          continue;
        }
        let found: MigrationStep[] = [];
        const isNew = !fs.existsSync(file);
        const db = openSqliteDatabase(file, (conn) => {
          found = components.map((c) => migrate(conn, c, { dryRun }));
        });
        db.close();
        // Personal data and key hashes: owner-only, as the gateway creates them.
        if (isNew) fs.chmodSync(file, 0o600);
        steps.push(...found.map((s) => ({ ...s, where: file })));
      }
    }
    if (opts.json) {
      printJson({ dryRun, steps }, 2);
      return;
    }
    const pending = steps.filter((s) => s.from !== s.to).length;
    printOut(
      `${steps.map((s) => `${s.where}  ${describeStep(s, dryRun)}`).join('\n')}\n${
        dryRun
          ? `${pending} component(s) with pending migrations; nothing changed (dry run).`
          : `${pending} component(s) migrated.`
      }\n`,
    );
  });
}
