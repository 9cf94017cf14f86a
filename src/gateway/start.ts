import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Redis } from 'ioredis';
import { checkInsecureSettings, loadConfig, type Config } from '../config/index.js';
import { dataDirLayout, initDataDir, isInitialised } from '../data-dir/index.js';
import { createEgressGuard, type EgressGuard } from '../egress/index.js';
import { PortcullisError } from '../errors/index.js';
import { createApp, hostOriginPolicy } from '../http/app.js';
import { clientAddress } from '../http/client-address.js';
import { defaultMaxPerAddress, limitConnections, listenerOptions } from '../http/limit-connections.js';
import { createLogger, type Logger } from '../log/logger.js';
import { createMcpEndpoint } from '../mcp/endpoint.js';
import { createMcpPipeline } from '../mcp/pipeline.js';
import type { AccessTokenAuthenticator } from '../auth/index.js';
import {
  createOAuthServer,
  loadCookieKeys,
  openMemoryOAuthDatabase,
  openSqliteOAuthDatabase,
  type OAuthServer,
} from '../oauth/index.js';
import { createOutputGuard } from '../mcp/secure-output.js';
import {
  createAlertDetector,
  createMetrics,
  logAlertHandler,
  webhookAlertHandler,
} from '../metrics/index.js';
import { createRateLimits, type RateLimitBackend } from '../ratelimit/index.js';
import { compilePolicy, createTaintTracker } from '../policy/index.js';
import { createApprovalRoutes, loadConfirmationKey } from '../approvals/index.js';
import { createSignIn } from '../signin/index.js';
import { createPersonCeilings, ensurePerson } from '../users/index.js';
import { resolveSecret } from '../secrets/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { createCatalogue, createMemoryTools, type Tool } from '../tools/index.js';
import { createUpstreamManager } from '../upstreams/index.js';
import { createWebFetchTool } from '../tools/web-fetch/index.js';
import { ADMIN_SCOPES, createApiKey, FIRST_RUN_OWNER } from './api-keys.js';
import { buildAudit, type BuiltAudit } from './build-audit.js';
import { readSigningSecrets } from './known-secrets.js';

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
  /** Where Prometheus metrics are served, when enabled. */
  readonly metricsUrl: URL | undefined;
  readonly config: Config;
  readonly storage: Storage;
  /** Undefined when audit.enabled is false. */
  readonly audit: BuiltAudit | undefined;
  readonly firstRun: FirstRun | undefined;
  readonly warnings: readonly string[];
  close(): Promise<void>;
}

type FetchHandler = (request: Request, env: unknown) => Response | Promise<Response>;

function listen(fetch: FetchHandler, config: Config): Promise<ServerType> {
  const { tls, host, port } = config.server;
  const limits = {
    ...config.server.connections,
    maxPerAddress: config.server.connections.maxPerAddress ?? defaultMaxPerAddress(config.server.trustProxy),
  };
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch,
        hostname: host,
        port,
        serverOptions: {
          ...listenerOptions(limits, tls !== undefined),
          ...(tls ? { cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) } : {}),
        },
        ...(tls ? { createServer: https.createServer } : {}),
      },
      () => resolve(server),
    );
    limitConnections(server, limits);
    server.once('error', reject);
  });
}

/** The metrics listener: its own port, so /metrics is never reachable through the MCP listener. */
function listenMetrics(
  config: Config,
  render: () => Promise<{ body: string; type: string }>,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    render().then(
      ({ body, type }) => res.writeHead(200, { 'content-type': type }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.metrics.port, config.metrics.host, () => resolve(server));
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

  // Exact secret values the redactor scrubs from results, errors, audit payloads and logs.
  const output = createOutputGuard({
    maxTextBytes: config.safety.maxResultBytes,
    maxDepth: config.safety.maxResultDepth,
    injectionAction: config.safety.injectionAction,
    injectionActions: config.safety.injectionActions,
    piiTools: config.safety.piiTools,
  });
  const signingSecrets = readSigningSecrets(layout.signingKeys);
  output.setKnownSecrets(signingSecrets);

  const logger = opts.logger ?? createLogger(config.logging.level, { redact: (v) => output.redactValue(v) });
  const warnings = problems.map((p) => p.message);
  for (const w of warnings) logger.warn(`INSECURE SETTING: ${w}`);

  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      await close().catch((err: unknown) => logger.error({ err }, 'error during shutdown'));
    }
  };

  try {
    const storage = openStorage(config, opts.dataDir);
    closers.push(() => storage.close());
    const metrics = createMetrics();

    const egressFor = (hosts: string[]): EgressGuard => {
      const guard = createEgressGuard({ allowHosts: hosts });
      closers.push(() => guard.close());
      return guard;
    };
    let audit: BuiltAudit | undefined;
    if (config.audit.enabled) {
      const built = await buildAudit({
        config,
        dataDir: opts.dataDir,
        logger,
        metrics,
        egress: config.audit.webhookUrl ? egressFor([new URL(config.audit.webhookUrl).hostname]) : undefined,
        effects: storage.effects,
      });
      audit = built;
      closers.push(() => built.close());
      const prune = () =>
        built.log.prune(config.audit.retentionDays * 86_400_000).catch((err: unknown) => {
          logger.error({ err }, 'audit retention pruning failed');
        });
      const pruneTimer = setInterval(() => void prune(), 6 * 3_600_000);
      pruneTimer.unref();
      closers.push(async () => clearInterval(pruneTimer));
    }

    let backend: RateLimitBackend = { kind: 'memory' };
    if (config.redis.url) {
      const client = new Redis(config.redis.url, {
        lazyConnect: false,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        ...(config.redis.password ? { password: resolveSecret(config.redis.password, env) } : {}),
      });
      client.on('error', (err) =>
        logger.warn({ err: err.message }, 'redis unavailable; rate limits count per replica'),
      );
      closers.push(async () => {
        client.disconnect();
      });
      backend = { kind: 'redis', client };
    }
    const limits = config.rateLimits.enabled ? createRateLimits(config.rateLimits, backend) : undefined;

    const alerts = createAlertDetector();
    alerts.onAlert(logAlertHandler(logger));
    if (config.alerts.webhookUrl) {
      const guard = egressFor([new URL(config.alerts.webhookUrl).hostname]);
      alerts.onAlert(
        webhookAlertHandler({
          url: config.alerts.webhookUrl,
          fetch: async (url, init) => {
            const res = await guard.fetch(url, init);
            return { ok: res.status >= 200 && res.status < 300, status: res.status };
          },
        }),
      );
    }

    const tools: Tool[] = [];
    if (config.tools.memory.enabled) tools.push(...createMemoryTools(storage.notes));
    if (config.tools.webFetch.enabled) {
      const wf = config.tools.webFetch;
      const guard = createEgressGuard({
        allowHosts: wf.allowHosts,
        allowHttpHosts: wf.allowHttpHosts,
        allowAddresses: wf.allowAddresses,
        maxBytes: wf.maxBytes,
        timeoutMs: wf.timeoutMs,
      });
      closers.push(() => guard.close());
      tools.push(createWebFetchTool(guard, { maxChars: wf.maxChars }));
    }
    const catalogue = createCatalogue(tools);

    // Upstream MCP servers (src/upstreams): each supervised (sandboxed if stdio, egress-guarded
    // if HTTP), its definitions pinned against portcullis.lock.json and scanned; only approved
    // tools are published into the catalogue, at start and whenever a listing or approval
    // changes. The secrets resolved for them join the redactor's known secrets, and every known
    // secret is redacted from their definitions before those are pinned, written or served.
    const upstreams = createUpstreamManager({
      upstreams: config.upstreams,
      catalogue,
      dataDir: opts.dataDir,
      env,
      knownSecrets: signingSecrets,
      logger,
      metrics,
    });
    closers.push(() => upstreams.close());
    upstreams.onSecret(() => output.setKnownSecrets([...signingSecrets, ...upstreams.knownSecrets()]));
    await upstreams.start();

    let firstRun: FirstRun | undefined;
    if (fresh) {
      const { record, key } = await createApiKey(
        storage.apiKeys,
        { owner: FIRST_RUN_OWNER, label: 'first-run admin key', scopes: [...ADMIN_SCOPES], expiresAt: null },
        new Date(),
      );
      firstRun = { adminKey: key, adminKeyId: record.id };
      await audit?.log.append({
        correlationId: randomUUID(),
        principal: 'portcullis:first-start',
        credentialId: record.id,
        event: 'admin',
        decision: 'allow',
        reasons: ['key-created'],
        outcome: 'ok',
        latencyMs: 0,
        bytesIn: 0,
        bytesOut: 0,
      });
    }

    // ---- OAuth (issue #3), part 1: its stores now, the server once the public URL is known.
    // Until then (and when OAuth is off) a JWT on /mcp is refused like any malformed key.
    const oauthDb =
      config.storage.driver === 'memory'
        ? openMemoryOAuthDatabase()
        : openSqliteOAuthDatabase(path.resolve(opts.dataDir, config.storage.sqliteFile));
    closers.push(() => oauthDb.close());
    // The first-run key's owner is a person with the admin role, so the key is capped by a
    // role like every person's credential (and the operator can lower it); no password yet.
    if (firstRun) await ensurePerson(oauthDb.users, { name: FIRST_RUN_OWNER, role: 'admin' }, new Date());
    let oauth: OAuthServer | undefined = undefined;
    const accessTokens: AccessTokenAuthenticator = {
      authenticate: (token, now) =>
        oauth
          ? oauth.accessTokens.authenticate(token, now)
          : Promise.resolve({ ok: false, reason: 'credential-malformed' }),
    };
    // ---- end OAuth part 1

    // ---- Policy and confirmation (issue #7): the compiled policy, taint tracking, and the key
    // that signs in-band confirmation states. The approval page's URL needs the public URL,
    // known once the listener is bound (below).
    const approvalBase: { url?: URL } = {};
    const confirmTimer = setInterval(() => {
      void storage.confirmations
        .purge(new Date())
        .catch((err: unknown) => logger.warn({ err }, 'confirmation purge failed'));
      void storage.taint
        .purge(new Date())
        .catch((err: unknown) => logger.warn({ err }, 'taint purge failed'));
    }, 3_600_000);
    confirmTimer.unref();
    closers.push(async () => clearInterval(confirmTimer));
    const policy = compilePolicy(config.policy);
    const policyDeps = {
      policy,
      taint: createTaintTracker(storage.taint, { windowMs: config.policy.taint.windowSeconds * 1000 }),
      confirm: {
        key: loadConfirmationKey(layout.keys),
        store: storage.confirmations,
        inBandTtlMs: config.policy.confirm.inBandTtlSeconds * 1000,
        approvalTtlMs: config.policy.confirm.approvalTtlSeconds * 1000,
        approvalWaitMs: config.policy.confirm.approvalWaitSeconds * 1000,
        approvalUrl: (id: string) => new URL(`/approvals/${id}`, approvalBase.url).href,
        now: () => new Date(),
      },
    };
    // ---- end policy

    const pipeline = createMcpPipeline({
      ...policyDeps,
      accessTokens,
      people: createPersonCeilings(oauthDb.users, policy.roles),
      apiKeys: storage.apiKeys,
      catalogue,
      limits,
      output,
      quarantine: storage.quarantine,
      audit: audit && { log: audit.log, argsKey: audit.keys.argsHmacKey },
      fullPayloadTools: config.audit.fullPayloadTools,
      metrics,
      alerts,
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
    closers.push(() => mcp.close());

    let metricsUrl: URL | undefined;
    if (config.metrics.enabled) {
      const server = await listenMetrics(config, async () => ({
        body: await metrics.registry.metrics(),
        type: metrics.registry.contentType,
      }));
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const { port } = server.address() as AddressInfo;
      metricsUrl = new URL(
        `http://${config.metrics.host.includes(':') ? `[${config.metrics.host}]` : config.metrics.host}:${port}/metrics`,
      );
    }

    // The public URL may depend on the bound port (port 0 in tests), so the app is built with
    // a policy computed after listening; until then the placeholder answers 503.
    let handler: FetchHandler = () => new Response(null, { status: 503 });
    const server = await listen((r, bindings) => handler(r, bindings), config);
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Streams (SSE) would hold the server open; end them.
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const scheme = config.server.tls ? 'https' : 'http';
    const hostForUrl = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
    const publicUrl = new URL(config.server.publicUrl ?? `${scheme}://${hostForUrl}:${port}`);
    approvalBase.url = publicUrl;
    // One sign-in for people, built once, for every page that has them sign in (the OAuth
    // pages, /account, /approvals): one throttle, so one guess budget per account.
    const signin = createSignIn({
      users: oauthDb.users,
      limits: config.oauth.login,
      csrfKey: loadCookieKeys(config.oauth.cookieKeys, layout.keys, env)[0]!,
      cookies: { secure: publicUrl.protocol === 'https:' },
      clientAddress: (c) => clientAddress(c, config.server.trustProxy),
      audit: audit && (async (entry) => void (await audit.log.append(entry))),
      logger,
      now: () => new Date(),
    });
    // ---- OAuth (issue #3), part 2: authorization server, resource-server checks, pages.
    oauth = createOAuthServer({
      config: config.oauth,
      publicUrl,
      resource: new URL('/mcp', publicUrl).href,
      db: oauthDb,
      apiKeys: storage.apiKeys,
      catalogue,
      roles: policy.roles,
      signingKeysFile: layout.signingKeys,
      keysDir: layout.keys,
      allowedOrigins: hostOriginPolicy(config, publicUrl, port).origins,
      trustProxy: config.server.trustProxy,
      signin,
      env,
      audit: audit?.log,
      logger,
      now: () => new Date(),
    });
    const oauthServer = oauth;
    if (oauthServer) closers.push(() => oauthServer.close());
    // ---- end OAuth part 2

    // ---- Approvals (issue #7): the out-of-band approval page, on the same sign-in, so a person
    // signed in at /account is signed in here.
    const approvals = createApprovalRoutes({
      store: storage.confirmations,
      signin,
      audit: audit && {
        append: async (entry) => void (await audit.log.append(entry)),
        argsKey: audit.keys.argsHmacKey,
      },
      logger,
      now: () => new Date(),
    });
    // ---- end approvals

    const app = createApp(
      {
        config,
        publicUrl,
        mcp,
        pipeline,
        storage,
        audit: audit && { log: audit.log, argsKey: audit.keys.argsHmacKey },
        metrics,
        logger,
        upstreams,
        oauth,
        limits,
        approvals,
      },
      hostOriginPolicy(config, publicUrl, port),
    );
    handler = (r, bindings) => app.fetch(r, bindings);
    logger.info({ url: publicUrl.href, dataDir: opts.dataDir }, 'portcullis listening');

    return {
      url: publicUrl,
      mcpUrl: new URL('/mcp', publicUrl),
      metricsUrl,
      config,
      storage,
      audit,
      firstRun,
      warnings,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
