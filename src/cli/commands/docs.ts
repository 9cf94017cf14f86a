import type { Command } from 'commander';
import { renderConfigDocs } from '../../config/index.js';
import { printOut } from '../print.js';

export function register(program: Command): void {
  program
    .command('docs')
    .description('Print generated documentation.')
    .command('config')
    .description('Print the configuration reference (docs/configuration.md) generated from the schema.')
    .action(() => {
      printOut(renderConfigDocs());
    });
}
