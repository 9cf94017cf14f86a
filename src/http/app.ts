import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { AuditLog } from '../audit/index.js';
import type { McpEndpoint, McpPipeline } from '../mcp/index.js';
import type { Metrics } from '../metrics/index.js';
import type { OAuthEnv, OAuthServer } from '../oauth/index.js';
import type { RateLimits } from '../ratelimit/index.js';
import { isStorageOutage, STORAGE_RETRY_AFTER_SECONDS } from '../storage/index.js';
import { createAdminAuditRoutes } from './admin-audit.js';
import { checkHostOrigin, type HostOriginPolicy } from './check-host-origin.js';
import { clientAddress } from './client-address.js';
import { limitBody, OAUTH_BODY_LIMIT } from './limit-body.js';
import { limitOAuth, limitRegistration } from './limit-oauth.js';
import { createReadinessCheck, publicReadiness, type ReadinessProbes } from './readiness.js';
import { requestId, type RequestIdVariables } from './request-id.js';
import {
  CLIENT_CLOSED_REQUEST,
  FORM_BODY_LIMIT,
  HTTP_STATUS,
  wireErrorResponse,
  type CommonHeaders,
} from '../wire/index.js';
import { securityHeaders, securityHeaderSet } from './security-headers.js';
import { STYLESHEET, STYLESHEET_PATH } from '../ui/index.js';

/**
 * What the app serves. `CV` is the console's own context variables (it sets more than the
 * request id), so the console mounts with its own type instead of a cast.
 */
export interface AppDeps<CV extends RequestIdVariables = RequestIdVariables> {
  readonly config: Config;
  readonly publicUrl: URL;
  readonly mcp: McpEndpoint;
  readonly pipeline: McpPipeline;
  /** The audit log and the key of its argument hashes; undefined when audit.enabled is false. */
  readonly audit: { readonly log: AuditLog; readonly argsKey: Buffer } | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The OAuth authorization/resource server (issue #3); absent when OAuth is off. */
  readonly oauth?: OAuthServer | undefined;
  /** Rate limits, for the OAuth endpoints and pages (undefined when rateLimits.enabled is false). */
  readonly limits?: RateLimits | undefined;
  /** The out-of-band approval page, /approvals/<id> (issue #7). */
  readonly approvals?: Hono<OAuthEnv>;
  /** The operator console, /admin (issue 14); its /admin/audit stays the JSON API below. */
  readonly console?: Hono<{ Variables: CV }>;
  /**
   * The console is served on its own listener (`console.listen`, `createConsoleApp`): here
   * /admin* is not found, whatever is mounted.
   */
  readonly consoleElsewhere?: boolean;
  /** /catalogue and /catalogue.json (issue 14): what the gateway serves. */
  readonly catalogue?: Hono<{ Variables: RequestIdVariables }>;
  /** The one-time setup links' page, /setup/<token> (issue 14). */
  readonly setup?: Hono<{ Variables: RequestIdVariables }>;
  /** People's own upstream credentials, /account/connections (issue 13); absent when no upstream takes them. */
  readonly connections?: Hono<{ Variables: { requestId: string } }>;
  /** What /readyz asks: storage, the audit store, Redis and the upstreams (readiness.ts). */
  readonly readiness: ReadinessProbes;
}

/** How long a client is asked to wait while the database cannot be reached. */

/** Hosts and origins this gateway answers to, derived from the configuration once at start. */
export function hostOriginPolicy(config: Config, publicUrl: URL, boundPort: number): HostOriginPolicy {
  const hosts = new Set(config.server.allowedHosts.map((h) => h.toLowerCase()));
  hosts.add(publicUrl.host.toLowerCase());
  const origins = new Set(config.server.allowedOrigins.map((o) => o.toLowerCase()));
  origins.add(publicUrl.origin.toLowerCase());
  const loopback = ['localhost', '127.0.0.1', '[::1]'];
  if (
    loopback.includes(config.server.host) ||
    config.server.host.startsWith('127.') ||
    config.server.host === '::1'
  ) {
    for (const name of loopback) {
      hosts.add(`${name}:${boundPort}`);
      origins.add(`http://${name}:${boundPort}`);
      origins.add(`https://${name}:${boundPort}`);
    }
  }
  return { hosts, origins };
}

/**
 * The body cap of a route: /mcp bounds its own (server.bodyLimitBytes); oidc-provider's
 * endpoints get its parser's limit; every page and every other route the pages' form limit.
 */
function bodyLimitFor(path: string): number | undefined {
  if (path === '/mcp') return undefined;
  const page = path.startsWith('/oauth/interaction/') || path.startsWith('/oauth/federation/');
  return path.startsWith('/oauth/') && !page ? OAUTH_BODY_LIMIT : FORM_BODY_LIMIT;
}

/**
 * The middleware every request passes, on every listener: request id, metrics, security
 * headers, Host/Origin, the body cap, and the per-address budget of the pages people sign in on.
 */
function useCommon(
  app: Hono<{ Variables: RequestIdVariables }>,
  deps: Pick<AppDeps, 'config' | 'publicUrl' | 'metrics' | 'limits'>,
  policy: HostOriginPolicy,
  security: CommonHeaders,
): void {
  const { config } = deps;
  app.use(requestId());
  app.use(async function countRequests(c, next) {
    await next();
    // A client that left before its answer is counted apart (499), never as a server error.
    const status = c.req.raw.signal.aborted ? CLIENT_CLOSED_REQUEST : c.res.status;
    deps.metrics.recordRequest(c.req.routePath || 'unmatched', status);
  });
  app.use(securityHeaders(security));
  app.use(checkHostOrigin(policy));
  // Every body is bounded before anything reads it: /mcp by its own reader, the rest here.
  app.use(limitBody(bodyLimitFor));
  // The pages a person signs in on answer anyone, like the authorization server: one budget
  // per address across all of them (`rateLimits.oauth`).
  if (deps.limits) {
    const perAddress = limitOAuth(deps.limits, config.server.trustProxy);
    // A wildcard covers its base path too (`/account/*` matches `/account`).
    for (const path of [
      '/oauth/*',
      '/account/*',
      '/approvals/*',
      '/setup/*',
      '/catalogue',
      '/catalogue.json',
      '/catalogue/*',
    ])
      app.use(path, perAddress);
    // The console's pages too; /admin/audit is authenticated per request and limited as /mcp is.
    app.use(
      '/admin/*',
      limitOAuth(deps.limits, config.server.trustProxy, (path) => path === '/admin/audit'),
    );
  }
}

/** The console's routes: its pages and the /admin/audit JSON API (for API keys). */
function mountConsole<CV extends RequestIdVariables>(
  app: Hono<{ Variables: RequestIdVariables }>,
  deps: AppDeps<CV>,
): void {
  if (deps.console) app.route('/', deps.console);
  if (deps.audit) {
    app.route(
      '/admin',
      createAdminAuditRoutes({
        pipeline: deps.pipeline,
        audit: deps.audit,
        trustProxy: deps.config.server.trustProxy,
      }),
    );
  }
}

/** The last word of every listener: a JSON 404, and no internal detail in a 500. */
function useEndings(app: Hono<{ Variables: RequestIdVariables }>, logger: Logger): void {
  app.notFound((c) => c.json({ error: 'not_found' }, HTTP_STATUS.notFound));
  app.onError((err, c) => {
    if (c.req.raw.signal.aborted) {
      // The connection broke under a route that was reading or writing it: the client's doing.
      logger.debug({ err, requestId: c.get('requestId') }, 'client went away mid-request');
      return new Response(null, { status: CLIENT_CLOSED_REQUEST });
    }
    if (isStorageOutage(err)) {
      // The database is down (or this replica lost it): nothing that needs it ran, and nothing
      // ran unaudited (the audit log is in it). A wait-and-retry, not an internal error; the
      // pools reconnect by themselves once it is back.
      logger.warn(
        { alert: 'storage-unavailable', err, requestId: c.get('requestId') },
        'database unreachable',
      );
      const message = `Service unavailable: the gateway's database cannot be reached; nothing was run. Try again later (correlation id ${c.get('requestId')}).`;
      const headers = { 'retry-after': String(STORAGE_RETRY_AFTER_SECONDS) };
      return c.req.path === '/mcp'
        ? wireErrorResponse('storage-unavailable', message, { headers })
        : c.json({ error: 'service_unavailable', message }, HTTP_STATUS.serviceUnavailable, headers);
    }
    logger.error({ err, requestId: c.get('requestId') }, 'unhandled error');
    return wireErrorResponse('internal', `Internal error (correlation id ${c.get('requestId')}).`);
  });
}

/**
 * The console's own listener (`console.listen`): the same middleware as the main app, with its
 * own Host/Origin policy, and nothing but the console. Everything else is not found here.
 */
export function createConsoleApp<CV extends RequestIdVariables>(
  deps: AppDeps<CV>,
  policy: HostOriginPolicy,
): Hono<{ Variables: RequestIdVariables }> {
  const app = new Hono<{ Variables: RequestIdVariables }>();
  useCommon(app, deps, policy, securityHeaderSet({ hsts: deps.publicUrl.protocol === 'https:' }));
  // The pages' one stylesheet (the page CSP allows styles from 'self' only).
  app.get(STYLESHEET_PATH, (c) =>
    c.body(STYLESHEET, HTTP_STATUS.ok, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
    }),
  );
  mountConsole(app, deps);
  useEndings(app, deps.logger);
  return app;
}

/** The HTTP application: every route, with the middleware every request passes. */
export function createApp<CV extends RequestIdVariables>(
  deps: AppDeps<CV>,
  policy: HostOriginPolicy,
): Hono<{ Variables: RequestIdVariables }> {
  const { config, logger } = deps;
  const app = new Hono<{ Variables: RequestIdVariables }>();
  const security = securityHeaderSet({ hsts: deps.publicUrl.protocol === 'https:' });
  useCommon(app, deps, policy, security);
  // With the console on its own listener, /admin* is not found here before any route can answer
  // (the same 404 as any unknown path: no redirect, nothing that names the other listener).
  if (deps.consoleElsewhere) {
    const notFound = (c: Context) => c.json({ error: 'not_found' }, HTTP_STATUS.notFound);
    app.all('/admin', notFound);
    app.all('/admin/*', notFound);
  }

  // ---- OAuth (issue #3): the /mcp challenges get `resource_metadata` and `scope`; the
  // authorization server (/oauth), RFC 9728/8414 metadata and the account pages are mounted.
  // Registered before /mcp so the challenge middleware wraps it.
  if (deps.oauth) {
    if (deps.limits) app.post('/oauth/reg', limitRegistration(deps.limits, config.server.trustProxy));
    app.use('/mcp', deps.oauth.challenge);
    app.route('/', deps.oauth.routes as unknown as Hono<{ Variables: RequestIdVariables }>);
  }
  // ---- end OAuth

  // ---- Approvals (issue #7): the page where a person approves one pending tool call.
  if (deps.approvals) app.route('/', deps.approvals as unknown as Hono<{ Variables: RequestIdVariables }>);
  // ---- end approvals
  if (deps.setup) app.route('/', deps.setup);
  if (deps.catalogue) app.route('/', deps.catalogue);
  if (!deps.consoleElsewhere) mountConsole(app, deps);

  // ---- Connections (issue 13): people connect their own upstream accounts.
  if (deps.connections) app.route('/', deps.connections);
  // ---- end connections

  app.all('/mcp', (c) => {
    const id = c.get('requestId');
    return deps.mcp.handle(c.req.raw, {
      requestId: id,
      ip: clientAddress(c, config.server.trustProxy),
      // What useCommon's middleware would add, for the answers /mcp builds with it.
      headers: { defaults: security.defaults, fixed: { ...security.fixed, 'x-request-id': id } },
    });
  });
  // Liveness only: the process answers. Readiness asks each dependency (readiness.ts); a replica
  // whose database or audit store is down answers 503 so the load balancer routes around it.
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Anyone may ask /readyz: it gets the state of each kind of dependency (publicReadiness); the
  // names, error text and latencies are served on the metrics listener and logged.
  const readiness = createReadinessCheck(deps.readiness);
  deps.metrics.setReadinessSource(readiness);
  app.get('/readyz', async (c) => {
    const ready = await readiness();
    if (ready.status === 'not-ready') logger.warn({ checks: ready.checks }, 'readiness check failed');
    return c.json(
      publicReadiness(ready),
      ready.status === 'not-ready' ? HTTP_STATUS.serviceUnavailable : HTTP_STATUS.ok,
    );
  });

  app.get('/.well-known/security.txt', (c) => {
    const { contact, expiresDays } = config.securityTxt;
    if (contact.length === 0) return c.notFound();
    const expires = new Date(Date.now() + expiresDays * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const lines = [
      ...contact.map((v) => `Contact: ${v}`),
      `Expires: ${expires}`,
      `Canonical: ${deps.publicUrl.origin}/.well-known/security.txt`,
    ];
    return c.text(`${lines.join('\n')}\n`, HTTP_STATUS.ok, { 'content-type': 'text/plain; charset=utf-8' });
  });

  useEndings(app, logger);
  return app;
}
