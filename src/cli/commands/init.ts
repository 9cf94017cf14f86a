import type { Command } from 'commander';
import { initDataDir } from '../../data-dir/index.js';
import { resolveDataDir, withDataDir } from '../options.js';

export function register(program: Command): void {
  withDataDir(
    program
      .command('init')
      .description(
        'Create a data directory: a commented portcullis.yaml and freshly generated keys. Never overwrites.',
      ),
  ).action((opts: { dataDir?: string }) => {
    const result = initDataDir(resolveDataDir(opts.dataDir));
    process.stdout.write(
      `Initialised ${result.dataDir}:\n${result.created.map((f) => `  ${f}`).join('\n')}\n`,
    );
  });
}
