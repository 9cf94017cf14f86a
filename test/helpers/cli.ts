import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../../bin/portcullis');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `bin/portcullis` with the current Node as a real child process. */
export function runCli(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Starts `portcullis start` and resolves once its banner names the MCP endpoint. `stdout()` is
 * everything the process wrote to stdout so far (its JSON log lines).
 */
export function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; banner: string; stdout: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORTCULLIS_METRICS__PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let banner = '';
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner; stderr so far:\n${banner}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      banner += d.toString();
      // The banner is written at once; it is complete once the endpoint line and, on a first
      // start, the client set-up line after the setup link have arrived (warnings, if any,
      // follow in the same write).
      if (
        /MCP endpoint: \S+\n/.test(banner) &&
        (!banner.includes('First start') || /Client set-up.*\n/.test(banner))
      ) {
        clearTimeout(timer);
        resolve({ child, banner, stdout: () => stdout });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${banner}`));
    });
  });
}
