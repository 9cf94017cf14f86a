import { randomUUID } from 'node:crypto';
import { checkInsecureSettings, loadConfig, PORTCULLIS_VERSION, type Config } from '../config/index.js';
import { dataDirLayout, initDataDir, isInitialised } from '../data-dir/index.js';
import { createEgressGuard, webhookFetch, type EgressGuard } from '../egress/index.js';
import { PortcullisError } from '../errors/index.js';
import {
  bindListener,
  clientAddress,
  createApp,
  createConsoleApp,
  hostOriginPolicy,
  type BoundListener,
} from '../http/index.js';
import { createLogger, type Logger } from '../log/index.js';
import { createMcpEndpoint, createMcpPipeline } from '../mcp/index.js';
import { createApiKey, type AccessTokenAuthenticator } from '../auth/index.js';
import {
  createOAuthServer,
  loadCookieKeys,
  openOAuthDatabase,
  readSigningSecrets,
  revocationSignal,
  withRevocationFanout,
} from '../oauth/index.js';
import { createOutputGuard } from '../safety/index.js';
import {
  createAlertDetector,
  createMetrics,
  listenMetrics,
  logAlertHandler,
  webhookAlertHandler,
} from '../metrics/index.js';
import { createRateLimits, rateLimitBackend } from '../ratelimit/index.js';
import { openSharedState, type SharedState } from '../shared-state/index.js';
import { compilePolicy, createTaintTracker, policyTimings } from '../policy/index.js';
import { createApprovalRoutes, loadConfirmationKey } from '../approvals/index.js';
import { createSetupRoutes, createSignIn } from '../signin/index.js';
import { createConsole } from '../console/index.js';
import { startTelemetry } from '../telemetry/index.js';
import { createCatalogueRoutes } from '../catalogue/index.js';
import { createPersonCeilings, ensurePerson, issueSetupLink, setupLinkUrl } from '../users/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { createBuiltInTools, createCatalogue } from '../tools/index.js';
import { createUpstreamManager, type PersonCredentialSource } from '../upstreams/index.js';
import {
  createConnectionRoutes,
  createConnections,
  loadKek,
  openVault,
  type Connections,
  type UpstreamOAuthClient,
  createUpstreamOAuthClient,
  createUpstreamOAuthGuard,
} from '../connections/index.js';
import {
  accountNav,
  openSigningKeyRing,
  retiredKeyRetentionMs,
  signingKeyFile,
  signingKeyReference,
} from '../oauth/index.js';
import { resolveSecretAsync } from '../secrets/index.js';
import { ADMIN_SCOPES, FIRST_RUN_OWNER } from './api-keys.js';
import { runningAsRoot } from './running-as-root.js';
import { buildAudit, type BuiltAudit } from './build-audit.js';

export interface StartOptions {
  readonly dataDir: string;
  readonly configFile?: string;
  readonly host?: string;
  readonly port?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /** Overrides `logging.format` (the CLI's `--log-format`). */
  readonly logFormat?: 'auto' | 'json' | 'pretty';
  /** The OAuth client of upstream authorization servers (person-oauth upstreams). */
  readonly upstreamOAuth?: UpstreamOAuthClient;
}

/** What the first start in an empty data directory created, to show the operator once. */
export interface FirstRun {
  readonly adminKey: string;
  readonly adminKeyId: string;
  /** The one-time link where the `admin` person sets a password, and when it stops working. */
  readonly setupUrl: string;
  readonly setupExpiresAt: Date;
}

export interface RunningGateway {
  readonly url: URL;
  readonly mcpUrl: URL;
  /** Where Prometheus metrics are served, when enabled. */
  readonly metricsUrl: URL | undefined;
  /** The console's home page (`/admin`): on its own listener when `console.listen` is set. */
  readonly consoleUrl: URL;
  readonly config: Config;
  readonly storage: Storage;
  /** Undefined when audit.enabled is false. */
  readonly audit: BuiltAudit | undefined;
  readonly firstRun: FirstRun | undefined;
  readonly warnings: readonly string[];
  /** Redis, when `redis.url` is set (its `ping()` is the readiness probe). */
  readonly sharedState: SharedState | undefined;
  close(): Promise<void>;
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
  // The key files: `keys.dir`, one copy shared by every replica.
  const keyFiles = dataDirLayout(opts.dataDir, config.keys.dir);
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
  // The key file's private parts (a `keys.tokenSigning` reference adds its own once read, below).
  const signingSecrets = config.keys.tokenSigning ? [] : readSigningSecrets(keyFiles.signingKeys);
  output.setKnownSecrets(signingSecrets);

  const logger =
    opts.logger ??
    createLogger(config.logging.level, {
      redact: (v) => output.redactValue(v),
      format: opts.logFormat ?? config.logging.format,
    });
  const warnings = problems.map((p) => p.message);
  for (const w of warnings) logger.warn(`INSECURE SETTING: ${w}`);
  // Not refused (containers in CI run as root), but said loudly: a bug in the gateway, or in a
  // library under it, would then own the machine.
  const root = runningAsRoot(process.getuid?.());
  if (root) {
    logger.warn({ alert: 'running-as-root' }, `RUNNING AS ROOT: ${root}`);
    warnings.push(root);
  }

  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      await close().catch((err: unknown) => logger.error({ err }, 'error during shutdown'));
    }
  };

  try {
    // The built-in authorization server's token-signing keys, from the key file or a reference,
    // kept in step with it (signing-key-ring.ts); its private parts are known secrets from here.
    const signingKeys =
      config.oauth.enabled && !config.oauth.external
        ? await openSigningKeyRing(
            config.keys.tokenSigning
              ? signingKeyReference(config.keys.tokenSigning, { env })
              : signingKeyFile(keyFiles.signingKeys),
            {
              intervalMs: config.keys.reloadSeconds * 1000,
              logger,
              // A replica that had not reloaded yet may have signed with a retired key for one
              // more reload interval after the rotation.
              retiredKeyRetentionMs: retiredKeyRetentionMs(config.oauth) + config.keys.reloadSeconds * 1000,
            },
          )
        : undefined;
    if (signingKeys) {
      closers.push(async () => signingKeys.close());
      for (const k of signingKeys.keys())
        if (typeof k.d === 'string' && !signingSecrets.includes(k.d)) signingSecrets.push(k.d);
      output.setKnownSecrets(signingSecrets);
    }
    const storage = await openStorage(config.storage, opts.dataDir);
    closers.push(() => storage.close());
    const metrics = createMetrics();
    // OTLP traces and metrics (telemetry.otlp): undefined, and no SDK loaded, when off. Its
    // collector token is a known secret from here on.
    const telemetry = await startTelemetry(config.telemetry.otlp, {
      env,
      dataDir: opts.dataDir,
      version: PORTCULLIS_VERSION,
      logger,
    });
    if (telemetry) {
      closers.push(() => telemetry.close());
      output.setKnownSecrets([...signingSecrets, ...telemetry.secrets]);
    }

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
        env,
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

    // ---- Shared state (issue 16): Redis, when configured, for what replicas share and may lose.
    // Its failures are logged at most every 30 s; every user of it has a local fallback.
    let redisWarnedAt = 0;
    const shared = openSharedState(config.redis, env, {
      onError: (err) => {
        if (Date.now() - redisWarnedAt < 30_000) return;
        redisWarnedAt = Date.now();
        logger.warn(
          { err: err.message },
          'redis unavailable: limits and throttles count per replica, sessions stay on their replica',
        );
      },
    });
    if (shared) closers.push(() => shared.close());
    if (shared && !(await shared.ready(3000)))
      logger.warn('redis not reachable at start; its users fall back until it is (docs/storage.md)');
    const limits = config.rateLimits.enabled
      ? createRateLimits(config.rateLimits, rateLimitBackend(shared))
      : undefined;
    // ---- end shared state

    const alerts = createAlertDetector();
    alerts.onAlert(logAlertHandler(logger));
    if (config.alerts.webhookUrl) {
      const guard = egressFor([new URL(config.alerts.webhookUrl).hostname]);
      alerts.onAlert(
        webhookAlertHandler({
          url: config.alerts.webhookUrl,
          fetch: webhookFetch(guard),
        }),
      );
    }

    // ---- Connections (issue 13): the vault opens before any upstream starts, and a wrong
    // key-encryption key stops the start here (fail closed), never later at a person's call.
    const personal = config.upstreams.some((u) => u.auth);
    const vault = personal
      ? await openVault(
          storage.connections,
          await loadKek({ ref: config.connections.keyEncryptionKey, keysDir: keyFiles.keys, env }),
          new Date(),
        )
      : undefined;
    /** Set once the public URL is known; until then (start-up listing) no person call can come. */
    let connections: Connections | undefined;
    const personCredentials: PersonCredentialSource = {
      resolve: async (upstream, principal) =>
        connections
          ? connections.resolve(upstream, principal)
          : {
              kind: 'none',
              reason: 'missing',
              message: `The server "${upstream}" is not ready yet; try again.`,
            },
      refused: async (upstream, id, detail) => connections?.refused(upstream, id, detail),
    };
    const connectionSecrets = new Set<string>();
    // ---- end connections

    const builtIns = createBuiltInTools(config.tools, storage.notes);
    closers.push(() => builtIns.close());
    const catalogue = createCatalogue(builtIns.tools);

    // Upstream MCP servers (src/upstreams): each supervised (sandboxed if stdio, egress-guarded
    // if HTTP), its definitions pinned against the pin store (storage.pins) and scanned; only approved
    // tools are published into the catalogue, at start and whenever a listing or approval
    // changes. The secrets resolved for them join the redactor's known secrets, and every known
    // secret is redacted from their definitions before those are pinned, written or served.
    const upstreams = createUpstreamManager({
      upstreams: config.upstreams,
      catalogue,
      dataDir: opts.dataDir,
      pins: storage.pins,
      env,
      knownSecrets: signingSecrets,
      logger,
      metrics,
      personCredentials,
    });
    closers.push(() => upstreams.close());
    const learnSecrets = () =>
      output.setKnownSecrets([
        ...signingSecrets,
        ...(telemetry?.secrets ?? []),
        ...upstreams.knownSecrets(),
        ...connectionSecrets,
      ]);
    upstreams.onSecret(learnSecrets);
    await upstreams.start();

    let firstKey: { adminKey: string; adminKeyId: string } | undefined;
    if (fresh) {
      const { record, key } = await createApiKey(
        storage.apiKeys,
        { owner: FIRST_RUN_OWNER, label: 'first-run admin key', scopes: [...ADMIN_SCOPES], expiresAt: null },
        new Date(),
      );
      firstKey = { adminKey: key, adminKeyId: record.id };
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

    // Issue 16: every revocation is published to the other replicas (their caches drop at once).
    const revocations = shared && revocationSignal(shared);
    const oauthDb = withRevocationFanout(
      await openOAuthDatabase(config.storage, opts.dataDir),
      revocations,
      () =>
        logger.warn('revocation not published (redis unavailable); other replicas see it within a second'),
    );
    closers.push(() => oauthDb.close());
    // The first-run key's owner is a person with the admin role, so the key is capped by a
    // role like every person's credential (and the operator can lower it); no password yet:
    // they set one through the setup link printed once below.
    if (firstKey) await ensurePerson(oauthDb.users, { name: FIRST_RUN_OWNER, role: 'admin' }, new Date());

    let metricsUrl: URL | undefined;
    if (config.metrics.enabled) {
      const metricsListener = await listenMetrics(config.metrics, metrics);
      closers.push(() => metricsListener.close());
      metricsUrl = metricsListener.url;
    }

    // The listener is bound before the app is built: the public URL may depend on the bound
    // port (port 0 in tests), and the OAuth server, the sign-in and the approval links are built
    // from it. Nothing below awaits until `listener.serve(app.fetch)`.
    const listener = await bindListener(config.server);
    closers.push(() => listener.close());
    const port = listener.port;
    const scheme = config.server.tls ? 'https' : 'http';
    const hostForUrl = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
    const publicUrl = new URL(config.server.publicUrl ?? `${scheme}://${hostForUrl}:${port}`);
    // The console's own listener (`console.listen`), bound now for the same reason: its URL is
    // where the setup page sends an admin. Same TLS files and connection limits as the main one.
    const consoleListen = config.console.listen;
    let consoleListener: BoundListener | undefined;
    let consoleUrl = new URL('/admin', publicUrl);
    if (consoleListen) {
      const bound = await bindListener({
        ...config.server,
        host: consoleListen.host,
        port: consoleListen.port,
      }).catch((err: unknown) => {
        throw new PortcullisError(
          'config-invalid',
          `console.listen: cannot listen on ${consoleListen.host}:${consoleListen.port} ` +
            `(${(err as NodeJS.ErrnoException).code ?? 'error'}); it must be a free port, not the main listener's.`,
          { cause: err },
        );
      });
      consoleListener = bound;
      closers.push(() => bound.close());
      const h = consoleListen.host.includes(':') ? `[${consoleListen.host}]` : consoleListen.host;
      consoleUrl = new URL('/admin', consoleListen.publicUrl ?? `${scheme}://${h}:${bound.port}`);
    }
    let firstRun: FirstRun | undefined;
    if (firstKey) {
      const link = await issueSetupLink(oauthDb.users, FIRST_RUN_OWNER, new Date());
      firstRun = {
        ...firstKey,
        setupUrl: setupLinkUrl(publicUrl, link.token),
        setupExpiresAt: link.expiresAt,
      };
    }

    // One sign-in for people, built once, for every page that has them sign in (the OAuth
    // pages, /account, /approvals): one throttle, so one guess budget per account.
    const signin = createSignIn({
      users: oauthDb.users,
      limits: config.oauth.login,
      csrfKey: loadCookieKeys(config.oauth.cookieKeys, keyFiles.keys, env)[0]!,
      cookies: { secure: publicUrl.protocol === 'https:' },
      clientAddress: (c) => clientAddress(c, config.server.trustProxy),
      audit: audit && (async (entry) => void (await audit.log.append(entry))),
      logger,
      now: () => new Date(),
      sharedState: shared, // issue 16: one guess budget across replicas
    });
    let connectionRoutes: ReturnType<typeof createConnectionRoutes> | undefined;
    // The gateway's OAuth client of upstreams' authorization servers, through its own guard.
    const upstreamOAuthClient = () => {
      const guard = createUpstreamOAuthGuard(config.connections.oauthEgress);
      closers.push(() => guard.close());
      return createUpstreamOAuthClient({ guard });
    };
    if (vault) {
      const built = createConnections({
        upstreams: config.upstreams,
        store: storage.connections,
        vault,
        config: config.connections,
        oauth: opts.upstreamOAuth ?? upstreamOAuthClient(),
        testSecret: (upstream, value) => upstreams.testPersonCredential(upstream, value),
        publicUrl,
        env,
        onSecret(value) {
          if (connectionSecrets.has(value)) return;
          connectionSecrets.add(value);
          learnSecrets();
        },
        audit: audit && (async (entry) => void (await audit.log.append(entry))),
        logger,
        now: () => new Date(),
      });
      closers.push(async () => built.close());
      built.onDisconnect((upstream, person) => upstreams.stopPersonSessions(upstream, person));
      // An upstream only people's sessions can list is listed by the first one that connects,
      // and at start by the connection used last (below, once connections are served).
      built.onConnect((upstream, person) => void upstreams.listThroughPerson(upstream, person));
      const learned = await built.learnStored();
      if (learned.failed > 0)
        logger.error(
          { alert: 'connection-unopenable', failed: learned.failed },
          'stored connections that do not open were marked broken',
        );
      connections = built;
      for (const upstream of upstreams.listsThroughPeople()) {
        const [latest] = (await storage.connections.list({ upstream }))
          .filter((r) => r.state === 'connected')
          .sort((a, b) => +(b.lastUsedAt ?? b.createdAt) - +(a.lastUsedAt ?? a.createdAt));
        if (latest)
          void upstreams.listThroughPerson(upstream, { tenant: latest.tenant, subject: latest.subject });
      }
      connectionRoutes = createConnectionRoutes({
        connections: built,
        signin,
        nav: accountNav,
        formTargets: config.upstreams.flatMap((u) =>
          u.auth?.mode === 'person-oauth' && u.auth.issuer ? [new URL(u.auth.issuer).origin] : [],
        ),
        logger,
      });
    }
    const policy = compilePolicy(config.policy);
    // ---- OAuth (issue #3): authorization server, resource-server checks, pages. When OAuth is
    // off, a JWT on /mcp is refused like any malformed key.
    const oauth = await createOAuthServer({
      config: config.oauth,
      publicUrl,
      resource: new URL('/mcp', publicUrl).href,
      db: oauthDb,
      apiKeys: storage.apiKeys,
      catalogue,
      roles: policy.roles,
      signingKeys,
      keysDir: keyFiles.keys,
      allowedOrigins: hostOriginPolicy(config, publicUrl, port).origins,
      trustProxy: config.server.trustProxy,
      signin,
      env,
      audit: audit?.log,
      logger,
      now: () => new Date(),
      revocations,
    });
    if (oauth) closers.push(() => oauth.close());
    // A rotation made elsewhere brings new private keys; the redactor (and the upstream
    // definitions' scrub, which holds this same array) learns them at once.
    oauth?.onSigningKeys((keys) => {
      for (const k of keys)
        if (typeof k.d === 'string' && !signingSecrets.includes(k.d)) signingSecrets.push(k.d);
      learnSecrets();
    });
    const accessTokens: AccessTokenAuthenticator = oauth?.accessTokens ?? {
      authenticate: async () => ({ ok: false, reason: 'credential-malformed' }),
    };
    // ---- end OAuth

    // ---- Policy and confirmation (issue #7): the compiled policy, taint tracking, and the key
    // that signs in-band confirmation states.
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
    const timings = policyTimings(config.policy);
    const policyDeps = {
      policy,
      taint: createTaintTracker(storage.taint, { windowMs: timings.taintWindowMs }),
      confirm: {
        key: loadConfirmationKey(
          keyFiles.keys,
          config.keys.confirmation ? await resolveSecretAsync(config.keys.confirmation, { env }) : undefined,
        ),
        store: storage.confirmations,
        inBandTtlMs: timings.inBandTtlMs,
        approvalTtlMs: timings.approvalTtlMs,
        approvalWaitMs: timings.approvalWaitMs,
        approvalUrl: (id: string) => new URL(`/approvals/${id}`, publicUrl).href,
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
      ...(telemetry ? { tracer: telemetry.tracer } : {}),
    });
    const mcp = createMcpEndpoint({
      pipeline,
      logger,
      redact: (value) => output.redactValue(value),
      bodyLimitBytes: config.server.bodyLimitBytes,
      jsonMaxDepth: config.server.jsonMaxDepth,
      sessions: {
        idleTtlMs: config.sessions.idleTtlSeconds * 1000,
        maxPerPrincipal: config.sessions.maxPerPrincipal,
        maxTotal: config.sessions.maxTotal,
      },
      // API keys are looked up again; an OAuth session stops hearing when its last token expires.
      credentialValid: async (credential) => {
        if (credential.authMethod !== 'api-key') return true;
        const record = await storage.apiKeys.findById(credential.credentialId);
        return record !== undefined && record.revokedAt === null;
      },
      sharedState: shared, // issue 16: 2025 session records shared by replicas
    });
    closers.push(() => mcp.close());
    // An upstream's list changes and resource updates reach the clients that may hear of them.
    upstreams.onSurfaceEvent((_upstream, event) => mcp.surfaceEvent(event));

    // ---- Approvals (issue #7): the out-of-band approval page, on the same sign-in, so a person
    // signed in at /account is signed in here.
    const approvals = createApprovalRoutes({
      store: storage.confirmations,
      notes: storage.notes,
      toolNamed: (name) => catalogue.get(name),
      signin,
      audit: audit && {
        append: async (entry) => void (await audit.log.append(entry)),
        argsKey: audit.keys.argsHmacKey,
      },
      logger,
      now: () => new Date(),
    });
    // ---- end approvals
    const setup = createSetupRoutes({
      consoleHome: consoleListener ? consoleUrl.href : '/admin',
      users: oauthDb.users,
      signin,
      limits: config.oauth.login,
      clientAddress: (c) => clientAddress(c, config.server.trustProxy),
      audit: audit && (async (entry) => void (await audit.log.append(entry))),
      logger,
      now: () => new Date(),
      sharedState: shared, // issue 16: one budget of wrong links across replicas
    });

    // ---- Console (issue 14): /admin for people with the admin role; only with the audit log on,
    // since every console action is recorded in it.
    const operatorConsole =
      audit &&
      createConsole({
        signin,
        users: oauthDb.users,
        oauth: oauthDb.oauth,
        apiKeys: storage.apiKeys,
        confirmations: storage.confirmations,
        quarantine: storage.quarantine,
        notes: storage.notes,
        toolNamed: (name) => catalogue.get(name),
        audit: {
          log: audit.log,
          store: audit.store,
          publicKey: audit.keys.publicKey,
          argsKey: audit.keys.argsHmacKey,
        },
        upstreams,
        dataDir: opts.dataDir,
        pins: storage.pins,
        roles: [...policy.roles.keys()].sort(),
        publicUrl,
        logger,
        now: () => new Date(),
      });
    // ---- end console
    const catalogueRoutes = createCatalogueRoutes({
      config: config.catalogue,
      catalogue,
      policy,
      signin,
      publicUrl,
      securityContact: config.securityTxt.contact,
      now: () => new Date(),
    });

    const appDeps = {
      config,
      publicUrl,
      mcp,
      pipeline,
      storage,
      audit: audit && { log: audit.log, argsKey: audit.keys.argsHmacKey },
      metrics,
      logger,
      readiness: {
        storage: () => storage.ping(),
        audit: audit && (async () => void (await audit.store.head())),
        redis:
          shared &&
          (async () => {
            if (!(await shared.ping())) throw new Error('redis did not answer PING');
          }),
        upstreams: () => upstreams.health(),
      },
      upstreams,
      oauth,
      limits,
      approvals,
      setup,
      catalogue: catalogueRoutes,
      ...(operatorConsole ? { console: operatorConsole } : {}),
      consoleElsewhere: consoleListener !== undefined,
      ...(connectionRoutes ? { connections: connectionRoutes } : {}),
    };
    const app = createApp(appDeps, hostOriginPolicy(config, publicUrl, port));
    listener.serve((r, bindings) => app.fetch(r, bindings));
    if (consoleListener) {
      // Its own Host/Origin policy: the console's host and origin only, none of the main one's.
      const own = {
        ...config,
        server: { ...config.server, host: consoleListen!.host, allowedHosts: [], allowedOrigins: [] },
      };
      const consoleApp = createConsoleApp(appDeps, hostOriginPolicy(own, consoleUrl, consoleListener.port));
      consoleListener.serve((r, bindings) => consoleApp.fetch(r, bindings));
      const bound = consoleListener;
      closers.push(() => bound.close());
      logger.info({ url: consoleUrl.href }, 'console listening on its own listener');
    }
    // At shutdown the listener stops first, before the capabilities it serves (the earlier
    // registration only covers a start that fails before this point).
    closers.push(() => listener.close(config.server.shutdownDrainSeconds * 1000));
    logger.info({ url: publicUrl.href, dataDir: opts.dataDir }, 'portcullis listening');

    return {
      url: publicUrl,
      mcpUrl: new URL('/mcp', publicUrl),
      metricsUrl,
      consoleUrl,
      config,
      storage,
      audit,
      firstRun,
      warnings,
      sharedState: shared,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
