import path from 'node:path';
import type { Command } from 'commander';

/** Adds the `--data-dir` option that every command accepts. */
export function withDataDir(cmd: Command): Command {
  return cmd.option(
    '--data-dir <dir>',
    'data directory (config, SQLite, keys); default $PORTCULLIS_DATA_DIR or ./data',
  );
}

/** The data directory a command works on: the flag, else PORTCULLIS_DATA_DIR, else ./data. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? env.PORTCULLIS_DATA_DIR ?? 'data');
}
