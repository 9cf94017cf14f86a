import type { Command } from 'commander';
import { renderConfigDocs } from '../../config/index.js';

export function register(program: Command): void {
  program
    .command('docs')
    .description('Print generated documentation.')
    .command('config')
    .description('Print the configuration reference (docs/configuration.md) generated from the schema.')
    .action(() => {
      process.stdout.write(renderConfigDocs());
    });
}
