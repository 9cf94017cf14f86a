import { Command, CommanderError } from 'commander';
import { PORTCULLIS_VERSION } from '../config/index.js';
import { isPortcullisError } from '../errors/index.js';
import * as audit from './commands/audit.js';
import * as clients from './commands/clients.js';
import * as connections from './commands/connections.js';
import * as docs from './commands/docs.js';
import * as doctor from './commands/doctor.js';
import * as grants from './commands/grants.js';
import * as init from './commands/init.js';
import * as inspect from './commands/inspect.js';
import * as inventory from './commands/inventory.js';
import * as keys from './commands/keys.js';
import * as migrateCommand from './commands/migrate.js';
import * as pins from './commands/pins.js';
import * as policy from './commands/policy.js';
import * as quarantine from './commands/quarantine.js';
import * as scan from './commands/scan.js';
import * as start from './commands/start.js';
import * as users from './commands/users.js';
import { CommandFailed } from './command-failed.js';
import { printErr } from './print.js';
import { UsageError } from './usage-error.js';

/** Builds the `portcullis` command tree; every command module adds itself. */
function buildProgram(): Command {
  const program = new Command('portcullis')
    .description('A security gateway for the Model Context Protocol.')
    .version(PORTCULLIS_VERSION)
    .showHelpAfterError()
    .exitOverride();
  for (const command of [
    start,
    init,
    keys,
    migrateCommand,
    audit,
    quarantine,
    inspect,
    pins,
    policy,
    inventory,
    scan,
    doctor,
    users,
    clients,
    connections,
    grants,
    docs,
  ])
    command.register(program);
  return program;
}

/**
 * Runs the CLI and returns its exit code: 0 on success, 1 on a failure, 2 on a usage error (and
 * for `scan`, a scan that could not be carried out). This is
 * the only place that decides it: commands report failure by throwing (CommandFailed, UsageError or
 * any error), never through `process.exitCode`, which a later step could overwrite.
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Generated ids (oidc-provider's grant ids among them) may begin with '-'.
      if (err.code === 'commander.unknownOption')
        printErr(
          "portcullis: a value that begins with '-' goes after '--', e.g. `portcullis grants revoke -- -AbC…`\n",
        );
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CommandFailed) {
      if (err.message) printErr(`portcullis: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof UsageError) {
      printErr(`portcullis: ${err.message}\n`);
      return 2;
    }
    if (isPortcullisError(err)) {
      printErr(`portcullis: ${err.publicMessage}\n`);
      return 1;
    }
    printErr(
      `portcullis: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// `start` keeps the process alive through its listener, so success leaves the event loop to end
// the process; a failure ends it now, with its code.
if (code !== 0) process.exit(code);
