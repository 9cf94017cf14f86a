import type { Command } from 'commander';
import { keepHeapNearLiveSize, startGateway, type RunningGateway } from '../../gateway/index.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printErr } from '../print.js';
import { UsageError } from '../usage-error.js';

/**
 * The connection details printed on start; on the very first start also the admin key and the
 * admin's setup link, each once and labelled. The key is never printed inside a client
 * configuration snippet: a snippet is made to be pasted into a file (and then committed), and
 * secret scanners rightly flag one with a live key in it.
 */
function renderStartBanner(gw: RunningGateway): string {
  const lines = [
    ``,
    `Portcullis is running.`,
    `  MCP endpoint: ${gw.mcpUrl.href}`,
    `  Console:      ${gw.consoleUrl.href}`,
  ];
  if (gw.firstRun) {
    const minutes = Math.round((gw.firstRun.setupExpiresAt.getTime() - Date.now()) / 60_000);
    lines.push(
      ``,
      `First start: the data directory was initialised, with a person named admin (role admin)`,
      `and an API key they own. Both secrets below are shown ONCE.`,
      ``,
      `  Admin API key (id ${gw.firstRun.adminKeyId}); send it as "Authorization: Bearer <key>":`,
      `  ${gw.firstRun.adminKey}`,
      ``,
      `  Set the admin's password (this link works once, for ${minutes} minutes):`,
      `  ${gw.firstRun.setupUrl}`,
      ``,
      `A new link: portcullis users reset-link admin. More keys: portcullis keys create.`,
      `Client set-up (Claude Desktop, VS Code, Cursor…): see README, "Connect a client".`,
    );
  }
  for (const w of gw.warnings) lines.push(``, `WARNING: ${w}`);
  return `${lines.join('\n')}\n`;
}

const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

export function register(program: Command): void {
  withDataDir(
    program
      .command('start')
      .description('Run the gateway (initialises an empty data directory on first start).')
      .option('--config <file>', 'configuration file (default: <data dir>/portcullis.yaml)')
      .option('--host <host>', 'address to listen on (overrides server.host)')
      .option('--port <port>', 'port to listen on (overrides server.port)')
      .option('--log-format <format>', 'auto, json or pretty (overrides logging.format)'),
  ).action(
    async (opts: { dataDir?: string; config?: string; host?: string; port?: string; logFormat?: string }) => {
      const logFormat = opts.logFormat as (typeof LOG_FORMATS)[number] | undefined;
      if (logFormat !== undefined && !LOG_FORMATS.includes(logFormat))
        throw new UsageError(`--log-format must be auto, json or pretty, got ${opts.logFormat}`);
      let port: number | undefined;
      if (opts.port !== undefined) {
        port = Number(opts.port);
        if (!/^\d{1,5}$/.test(opts.port) || port > 65535)
          throw new UsageError(`--port must be 0–65535, got ${opts.port}`);
      }
      // The serving process only (not every process that builds a gateway, such as tests):
      // the heap stays near its live size (gateway/heap.ts, issue 17).
      keepHeapNearLiveSize();
      const gw = await startGateway({
        dataDir: resolveDataDir(opts.dataDir),
        configFile: opts.config,
        host: opts.host,
        port,
        ...(logFormat ? { logFormat } : {}),
      });
      printErr(renderStartBanner(gw));
      const stop = (signal: string) => {
        printErr(
          `\nReceived ${signal}, shutting down: no new connections; calls in flight get up to ${gw.config.server.shutdownDrainSeconds} s…\n`,
        );
        gw.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    },
  );
}
