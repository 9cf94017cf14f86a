import type { Command } from 'commander';
import { startGateway, type RunningGateway } from '../../gateway/index.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printErr } from '../print.js';
import { UsageError } from '../usage-error.js';

/** The connection details printed on start; the admin key only on the very first start. */
function renderStartBanner(gw: RunningGateway): string {
  const lines = [``, `Portcullis is running.`, `  MCP endpoint: ${gw.mcpUrl.href}`];
  if (gw.firstRun) {
    const snippet = {
      mcpServers: {
        portcullis: {
          type: 'http',
          url: gw.mcpUrl.href,
          headers: { Authorization: `Bearer ${gw.firstRun.adminKey}` },
        },
      },
    };
    lines.push(
      ``,
      `First start: the data directory was initialised and an admin API key was created.`,
      `It is shown ONCE; store it now (create more with \`portcullis keys create\`).`,
      ``,
      `  API key (id ${gw.firstRun.adminKeyId}):`,
      `  ${gw.firstRun.adminKey}`,
      ``,
      `Client configuration (Claude Desktop, VS Code, Cursor…):`,
      JSON.stringify(snippet, null, 2),
    );
  }
  for (const w of gw.warnings) lines.push(``, `WARNING: ${w}`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  withDataDir(
    program
      .command('start')
      .description('Run the gateway (initialises an empty data directory on first start).')
      .option('--config <file>', 'configuration file (default: <data dir>/portcullis.yaml)')
      .option('--host <host>', 'address to listen on (overrides server.host)')
      .option('--port <port>', 'port to listen on (overrides server.port)'),
  ).action(async (opts: { dataDir?: string; config?: string; host?: string; port?: string }) => {
    let port: number | undefined;
    if (opts.port !== undefined) {
      port = Number(opts.port);
      if (!/^\d{1,5}$/.test(opts.port) || port > 65535)
        throw new UsageError(`--port must be 0–65535, got ${opts.port}`);
    }
    const gw = await startGateway({
      dataDir: resolveDataDir(opts.dataDir),
      configFile: opts.config,
      host: opts.host,
      port,
    });
    printErr(renderStartBanner(gw));
    const stop = (signal: string) => {
      printErr(`\nReceived ${signal}, shutting down…\n`);
      gw.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
