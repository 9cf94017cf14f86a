/**
 * The command ran and its result is a failure — a broken audit chain, an upstream the gateway would
 * refuse, a malformed input line: exit code 1. Its report is already printed; the message, if any,
 * is one more line on stderr. Commands throw this rather than set `process.exitCode`, so the exit
 * code is decided in one place (`main`) and nothing later can overwrite it.
 */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
  /** 1, or 2 for a command whose contract gives "could not do its job" its own code (`scan`). */
  readonly exitCode: 1 | 2;

  constructor(message?: string, options: { exitCode?: 1 | 2 } = {}) {
    super(message);
    this.exitCode = options.exitCode ?? 1;
  }
}
