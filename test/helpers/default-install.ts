import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, startCli } from './cli.js';
import { tempDir } from './gateway.js';
import { writeTestTls } from './oauth-tls.js';

/** A gateway running as its own `portcullis start` process, as an operator would run it. */
export interface InstalledGateway {
  /** The MCP endpoint the banner names. */
  readonly url: string;
  readonly origin: string;
  readonly dataDir: string;
  /** Runs `portcullis <args> --data-dir <this install>` as a real process. */
  cli(args: readonly string[], input?: string): ReturnType<typeof runCli>;
  close(): Promise<void>;
}

/**
 * Starts `bin/portcullis start` on a fresh data directory. Without `config` this is the default
 * install (`npm ci && npm start`, nothing configured); the only change is a free port for the
 * gateway and its metrics, so tests can run side by side. With `config`, the directory is
 * initialised first and `config` becomes its portcullis.yaml.
 */
export async function startInstalledGateway(opts: { config?: string } = {}): Promise<InstalledGateway> {
  const dataDir = tempDir('portcullis-install-');
  if (opts.config !== undefined) {
    // As the operator does: `portcullis init`, then edit portcullis.yaml, then start.
    const init = await runCli(['init', '--data-dir', dataDir]);
    if (init.code !== 0) throw new Error(`portcullis init failed: ${init.stderr}`);
    fs.writeFileSync(path.join(dataDir, 'portcullis.yaml'), opts.config);
  }
  const { child, banner } = await startCli(['--data-dir', dataDir, '--port', '0']);
  const url = /MCP endpoint: (\S+)/.exec(banner)![1]!;
  return {
    url,
    origin: new URL(url).origin,
    dataDir,
    cli: (cliArgs, input) =>
      runCli([...cliArgs, '--data-dir', dataDir], input === undefined ? {} : { input }),
    close: () => stop(child, dataDir),
  };
}

/** The documented production shape on one machine: TLS on the gateway's own listener. */
export function productionConfig(): string {
  const tls = writeTestTls(tempDir('portcullis-tls-'));
  return `server:\n  tls:\n    cert: ${tls.cert}\n    key: ${tls.key}\n`;
}

function stop(child: ChildProcess, dataDir: string): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      resolve();
    });
    child.kill('SIGTERM');
  });
}
