import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { checkInsecureSettings, loadConfig, type Config } from '../config/index.js';
import { dataDirLayout, initDataDir, isInitialised } from '../data-dir/index.js';
import { PortcullisError } from '../errors/index.js';
import { createApp, hostOriginPolicy } from '../http/app.js';
import { createLogger, type Logger } from '../log/logger.js';
import { createMcpEndpoint } from '../mcp/endpoint.js';
import { createMcpPipeline } from '../mcp/pipeline.js';
import { openStorage, type Storage } from '../storage/index.js';
import { createCatalogue, createMemoryTools } from '../tools/index.js';
import { BUILT_IN_SCOPES, createApiKey } from './api-keys.js';

export interface StartOptions {
  readonly dataDir: string;
  readonly configFile?: string;
  readonly host?: string;
  readonly port?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

/** What the first start in an empty data directory created, to show the operator once. */
export interface FirstRun {
  readonly adminKey: string;
  readonly adminKeyId: string;
}

export interface RunningGateway {
  readonly url: URL;
  readonly mcpUrl: URL;
  readonly config: Config;
  readonly storage: Storage;
  readonly firstRun: FirstRun | undefined;
  readonly warnings: readonly string[];
  close(): Promise<void>;
}

function listen(
  app: { fetch: (r: Request) => Response | Promise<Response> },
  config: Config,
): Promise<ServerType> {
  const { tls, host, port } = config.server;
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        hostname: host,
        port,
        ...(tls
          ? {
              createServer: https.createServer,
              serverOptions: { cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) },
            }
          : {}),
      },
      () => resolve(server),
    );
    server.once('error', reject);
  });
}

/**
 * Starts the gateway on a data directory, initialising it on first use. Validates the whole
 * configuration before opening anything, refuses insecure settings, and returns once the
 * listener accepts connections.
 */
export async function startGateway(opts: StartOptions): Promise<RunningGateway> {
  const env = opts.env ?? process.env;
  const layout = dataDirLayout(opts.dataDir);
  const fresh = !opts.configFile && !isInitialised(opts.dataDir);
  if (fresh) initDataDir(opts.dataDir);

  const loaded = loadConfig({ file: opts.configFile ?? layout.config, env, required: true });
  const config: Config = {
    ...loaded,
    server: {
      ...loaded.server,
      host: opts.host ?? loaded.server.host,
      port: opts.port ?? loaded.server.port,
    },
  };
  const problems = checkInsecureSettings(config);
  const fatal = problems.find((p) => p.severity === 'fatal');
  if (fatal) throw new PortcullisError('config-invalid', fatal.message);

  const logger = opts.logger ?? createLogger(config.logging.level);
  const warnings = problems.map((p) => p.message);
  for (const w of warnings) logger.warn(`INSECURE SETTING: ${w}`);

  const storage = openStorage(config, opts.dataDir);
  try {
    let firstRun: FirstRun | undefined;
    if (fresh) {
      const { record, key } = await createApiKey(
        storage.apiKeys,
        { owner: 'admin', label: 'first-run admin key', scopes: [...BUILT_IN_SCOPES], expiresAt: null },
        new Date(),
      );
      firstRun = { adminKey: key, adminKeyId: record.id };
    }

    const tools = config.tools.memory.enabled ? createMemoryTools(storage.notes) : [];
    const pipeline = createMcpPipeline({
      apiKeys: storage.apiKeys,
      catalogue: createCatalogue(tools),
      logger,
      now: () => new Date(),
    });
    const mcp = createMcpEndpoint({
      pipeline,
      logger,
      bodyLimitBytes: config.server.bodyLimitBytes,
      jsonMaxDepth: config.server.jsonMaxDepth,
      sessions: {
        idleTtlMs: config.sessions.idleTtlSeconds * 1000,
        maxPerPrincipal: config.sessions.maxPerPrincipal,
        maxTotal: config.sessions.maxTotal,
      },
    });

    // The public URL may depend on the bound port (port 0 in tests), so the app is built with
    // a policy computed after listening; until then the placeholder refuses everything.
    let handler: (r: Request) => Response | Promise<Response> = () => new Response(null, { status: 503 });
    const server = await listen({ fetch: (r) => handler(r) }, config);
    const port = (server.address() as AddressInfo).port;
    const scheme = config.server.tls ? 'https' : 'http';
    const hostForUrl = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
    const publicUrl = new URL(config.server.publicUrl ?? `${scheme}://${hostForUrl}:${port}`);
    const app = createApp(
      { config, publicUrl, mcp, storage, logger },
      hostOriginPolicy(config, publicUrl, port),
    );
    handler = app.fetch;
    logger.info({ url: publicUrl.href, dataDir: opts.dataDir }, 'portcullis listening');

    return {
      url: publicUrl,
      mcpUrl: new URL('/mcp', publicUrl),
      config,
      storage,
      firstRun,
      warnings,
      async close() {
        await mcp.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Streams (SSE) would hold the server open; end them.
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close();
    throw err;
  }
}
