import type { Command } from 'commander';
import { isSecurityContactUri, SECURITY_CONTACT_RULE } from '../../config/index.js';
import { initDataDir } from '../../data-dir/index.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printOut, text } from '../print.js';
import { UsageError } from '../usage-error.js';

export function register(program: Command): void {
  withDataDir(
    program
      .command('init')
      .description(
        'Create a data directory: a commented portcullis.yaml and freshly generated keys. Never overwrites.',
      )
      .option(
        '--security-contact <uri>',
        `who to tell about a vulnerability, published in /.well-known/security.txt: ${SECURITY_CONTACT_RULE} (repeatable)`,
        (v: string, all: string[]) => [...all, v],
        [],
      ),
  ).action((opts: { dataDir?: string; securityContact: string[] }) => {
    // Checked before anything is written: a bad contact leaves no half-made directory behind.
    for (const contact of opts.securityContact) {
      if (!isSecurityContactUri(contact))
        throw new UsageError(`--security-contact "${contact}" must be ${SECURITY_CONTACT_RULE}`);
    }
    const result = initDataDir(resolveDataDir(opts.dataDir), { securityContacts: opts.securityContact });
    printOut(
      text`Initialised ${result.dataDir}:\n` + result.created.map((f) => text`  ${f}`).join('\n') + '\n',
    );
    if (opts.securityContact.length === 0) {
      printOut(
        'No security contact: /.well-known/security.txt answers 404 until securityTxt.contact is set.\n',
      );
    }
  });
}
