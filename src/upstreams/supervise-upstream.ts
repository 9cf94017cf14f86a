import type { Logger } from 'pino';
import { createEgressGuard, type EgressGuard } from '../egress/index.js';
import { isPortcullisError } from '../errors/index.js';
import { createRedactor, type Redactor } from '../safety/index.js';
import { startProcess, SandboxError, type ChildHandle, type SandboxProbe } from '../sandbox/index.js';
import { resolveSecretAsync, type VaultClient } from '../secrets/index.js';
import { MissingCapabilityError, ToolInputError, type ToolContext } from '../tools/index.js';
import { answerInputRequired, isInputRequired } from './answer-input-required.js';
import { nextRestart } from './backoff.js';
import { buildProcessEnv } from './build-env.js';
import { relayedCapabilities, requestEnvelope, splitRequired } from './build-envelope.js';
import { protocolMode, type UpstreamConfig } from './config.js';
import { createHttpAuth, type ResolvedHttpAuth } from './create-http-auth.js';
import { isUpstreamError, UpstreamError } from './errors.js';
import { createHttpChannel, type HttpAuth } from './http-channel.js';
import {
  discover,
  initialize,
  listPrompts,
  listResourceTemplates,
  listTools,
  type MalformedTool,
  type PromptDefinition,
  type ResourceTemplateDefinition,
  type ServerIdentity,
  type ToolDefinition,
} from './mcp-client.js';
import { createCallRelay } from './relay-notifications.js';
import {
  createRpcConnection,
  type Channel,
  type InputRequestMethod,
  type RpcConnection,
} from './rpc-connection.js';
import { createStdioChannel } from './stdio-channel.js';

/**
 * - `starting`: connecting for the first time or after a restart;
 * - `up`: initialised and listed;
 * - `restarting`: down, waiting out a back-off before the next start;
 * - `circuit-open`: failed repeatedly; calls fail fast until the next attempt;
 * - `refused`: will not be started (no sandbox available and `sandbox: off` not set);
 * - `stopped`: the gateway is shutting down.
 */
export type UpstreamState = 'starting' | 'up' | 'restarting' | 'circuit-open' | 'refused' | 'stopped';

export interface UpstreamHealth {
  readonly name: string;
  readonly state: UpstreamState;
  readonly transport: 'stdio' | 'http';
  readonly sandboxed: boolean;
  readonly consecutiveFailures: number;
  readonly restarts: number;
  /** A short reason for the last failure, safe to show an operator (no secrets). */
  readonly lastError: string | undefined;
  readonly server: { readonly name?: string; readonly version?: string; readonly protocolVersion?: string };
}

export interface Listing {
  readonly identity: ServerIdentity;
  readonly tools: readonly ToolDefinition[];
  /** Empty when the server declares no prompts. */
  readonly prompts: readonly PromptDefinition[];
  /** Empty when the server declares no resources. */
  readonly resourceTemplates: readonly ResourceTemplateDefinition[];
  readonly malformed: readonly MalformedTool[];
}

/** A change the server announced (its own URI, not yet in the gateway's namespace). */
export type ServerEvent =
  | { readonly kind: 'resource-updated'; readonly uri: string }
  | { readonly kind: 'list-changed'; readonly list: 'tools' | 'resources' | 'prompts' };

export interface SuperviseDeps {
  readonly config: UpstreamConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly probe: SandboxProbe;
  /** Paths a sandboxed server must never see (the gateway's data directory). */
  readonly hide: readonly string[];
  readonly clientVersion: string;
  readonly vault?: VaultClient;
  readonly onListing: (listing: Listing) => void;
  readonly onStateChange: (health: UpstreamHealth) => void;
  /** Every secret value resolved for this upstream (and each new access token). */
  readonly onSecret: (value: string) => void;
  /** A resource update or list change the server announced (list changes after re-listing). */
  readonly onEvent?: (event: ServerEvent) => void;
  /** Redacts a string relayed to a caller (progress and log messages) of every known secret. */
  readonly redactText?: (text: string) => string;
  /**
   * One person's session (connections): their credential instead of the upstream's own, which
   * this session never resolves. stdio: `env` joins the process environment; http: `auth`
   * gives the request headers. `label` names the session in logs (a connection id, never a secret).
   */
  readonly person?: {
    readonly label: string;
    readonly env?: Readonly<Record<string, string>>;
    readonly auth?: HttpAuth;
  };
}

export interface UpstreamSupervisor {
  readonly name: string;
  /** Starts the first connection; resolves when it has succeeded or failed (never rejects). */
  start(): Promise<void>;
  call(toolName: string, args: unknown, ctx: ToolContext): Promise<unknown>;
  /**
   * Sends one request on a caller's behalf (prompts/get, resources/read, completion/complete…):
   * the call deadline, cancellation by `ctx.signal`, and progress and log notifications relayed
   * to `ctx.notify` under the caps of relay-notifications.ts. Failures become a ToolInputError.
   */
  request(method: string, params: Record<string, unknown>, ctx: ToolContext): Promise<unknown>;
  /**
   * resources/subscribe (kept across restarts) and resources/unsubscribe, by the server's URI;
   * counted, so the server hears the unsubscribe only when the last subscriber leaves.
   */
  subscribe(uri: string): Promise<void>;
  unsubscribe(uri: string): Promise<void>;
  /** Lists tools again now (on list_changed and on the periodic timer). */
  relist(): Promise<void>;
  /**
   * The operator's restart (console): drops the connection (and process), forgets the failure
   * count so an open circuit closes, and connects again now. Resolves when that attempt ends.
   */
  restart(): Promise<void>;
  health(): UpstreamHealth;
  close(): Promise<void>;
}

/** The server requests the operator lets through to the caller (config `inputRequests`). */
export function relayedRequests(config: UpstreamConfig): ReadonlySet<InputRequestMethod> {
  const { elicitation, urlElicitation, sampling, roots } = config.inputRequests;
  return new Set<InputRequestMethod>([
    ...(elicitation || urlElicitation ? (['elicitation/create'] as const) : []),
    ...(sampling ? (['sampling/createMessage'] as const) : []),
    ...(roots ? (['roots/list'] as const) : []),
  ]);
}

/** What the gateway declares to the server it may ask for: only what the operator relays. */
function clientCapabilities(config: UpstreamConfig): Record<string, unknown> {
  const { elicitation, urlElicitation, sampling, roots } = config.inputRequests;
  return {
    ...(elicitation || urlElicitation
      ? { elicitation: { ...(elicitation ? { form: {} } : {}), ...(urlElicitation ? { url: {} } : {}) } }
      : {}),
    ...(sampling ? { sampling: {} } : {}),
    ...(roots ? { roots: { listChanged: false } } : {}),
  };
}

/** Longest wait for the answer to `server/discover` under `protocol: auto` before trying 2025. */
const PROBE_TIMEOUT_MS = 10_000;

/** Lines kept from a server's stderr to explain a crash. */
const STDERR_LINES = 20;

/** Least time between two listings prompted by list_changed notifications. */
const RELIST_GAP_MS = 1000;

/** Resource-update notifications of one upstream passed on per second; a flood beyond is dropped. */
const RESOURCE_UPDATES_PER_SECOND = 50;

export function describeTarget(config: UpstreamConfig): string {
  return config.stdio ? [config.stdio.command, ...config.stdio.args].join(' ') : config.http!.url;
}

/**
 * Runs one upstream: starts it (in the sandbox, or over HTTP through the egress guard), keeps it
 * listed, restarts it with back-off when it crashes or stops answering, and opens a circuit when
 * it keeps failing. A failing upstream never throws out of here: calls get a clear tool error
 * and the rest of the gateway carries on.
 */
export function superviseUpstream(deps: SuperviseDeps): UpstreamSupervisor {
  const { config, logger } = deps;
  const log = logger.child({
    upstream: config.name,
    ...(deps.person ? { connection: deps.person.label } : {}),
  });
  const transport = config.stdio ? 'stdio' : 'http';
  const sandboxed = transport === 'stdio' && config.sandbox !== 'off';

  let state: UpstreamState = 'starting';
  let failures = 0;
  let restarts = 0;
  let lastError: string | undefined;
  let identity: ServerIdentity | undefined;
  let conn: RpcConnection | undefined;
  let child: ChildHandle | undefined;
  let guard: EgressGuard | undefined;
  let tokenGuard: EgressGuard | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let relistTimer: NodeJS.Timeout | undefined;
  let retryAt: number | undefined;
  let relisting: Promise<void> | undefined;
  let relistAgain = false;
  /** When the last re-listing ended (0: none yet); the next waits RELIST_GAP_MS from it. */
  let lastListedAt = 0;
  /** `protocol: auto` over stdio: the server did not survive the 2026-07-28 probe; 2025 from now on. */
  let legacyOnly = false;
  let redactor: Redactor = createRedactor();
  const secrets = new Set<string>();
  const stderrTail: string[] = [];
  /**
   * Upstream URIs subscribed to, with how many subscribers (sessions, listens) hold each: the
   * server is told to unsubscribe only when the last one leaves, since one upstream subscription
   * serves every caller. Subscribed again after a restart, since the server forgot them.
   */
  const subscriptions = new Map<string, number>();

  const health = (): UpstreamHealth => ({
    name: config.name,
    state,
    transport,
    sandboxed,
    consecutiveFailures: failures,
    restarts,
    lastError,
    server: identity
      ? {
          ...(identity.name ? { name: identity.name } : {}),
          ...(identity.version ? { version: identity.version } : {}),
          protocolVersion: identity.protocolVersion,
        }
      : {},
  });
  const setState = (next: UpstreamState) => {
    state = next;
    deps.onStateChange(health());
  };
  const learnSecret = (value: string) => {
    if (secrets.has(value)) return;
    secrets.add(value);
    redactor = createRedactor({ secrets: [...secrets] });
    deps.onSecret(value);
  };
  /** Error text for logs: redacted with this upstream's secrets, bounded. */
  const safe = (text: string) => redactor.redact(text.slice(0, 2000)).text;

  async function resolveAll(refs: Readonly<Record<string, string>>): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [name, ref] of Object.entries(refs)) {
      out[name] = await resolveSecretAsync(ref, {
        env: deps.env,
        ...(deps.vault ? { vault: deps.vault } : {}),
      });
      learnSecret(out[name]);
    }
    return out;
  }

  async function openStdio(): Promise<Channel> {
    const stdio = config.stdio!;
    const secrets = deps.person ? { ...deps.person.env } : await resolveAll(stdio.secretEnv);
    if (deps.person) for (const value of Object.values(secrets)) learnSecret(value);
    const env = buildProcessEnv(stdio, deps.env, secrets, sandboxed);
    const started = startProcess(
      {
        command: stdio.command,
        args: stdio.args,
        env,
        ...(stdio.cwd ? { cwd: stdio.cwd } : {}),
        sandbox: config.sandbox === 'off' ? 'off' : config.sandbox,
        hide: deps.hide,
      },
      deps.probe,
    );
    child = started;
    stderrTail.length = 0;
    let partial = '';
    started.stderr.setEncoding('utf8');
    started.stderr.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = (lines.pop() ?? '').slice(0, 1000);
      for (const line of lines) {
        stderrTail.push(line.slice(0, 500));
        if (stderrTail.length > STDERR_LINES) stderrTail.shift();
      }
    });
    return createStdioChannel(started, config.maxOutputBytes * 4);
  }

  async function openHttp(): Promise<Channel> {
    const http = config.http!;
    const url = new URL(http.url);
    guard ??= createEgressGuard({
      allowHosts: [url.hostname],
      allowHttpHosts: http.allowHttp ? [url.hostname] : [],
      allowAddresses: http.allowAddresses,
      maxRedirects: 0,
      maxBytes: config.maxOutputBytes * 4,
      timeoutMs: config.callTimeoutSeconds * 1000 + 5000,
    });
    let auth: ResolvedHttpAuth | undefined;
    if (deps.person) {
      // A person's session: only their credential, never the upstream's own.
    } else if (http.auth?.bearer)
      auth = { kind: 'bearer', token: (await resolveAll({ t: http.auth.bearer.secret })).t! };
    else if (http.auth?.header) {
      auth = {
        kind: 'header',
        name: http.auth.header.name,
        value: (await resolveAll({ v: http.auth.header.secret })).v!,
      };
    } else if (http.auth?.clientCredentials) {
      const cc = http.auth.clientCredentials;
      auth = {
        kind: 'client-credentials',
        tokenUrl: cc.tokenUrl,
        clientId: cc.clientId,
        clientSecret: (await resolveAll({ s: cc.clientSecret })).s!,
        ...(cc.scope ? { scope: cc.scope } : {}),
        ...(cc.resource ? { resource: cc.resource } : {}),
      };
    }
    const tokenUrl = http.auth?.clientCredentials ? new URL(http.auth.clientCredentials.tokenUrl) : undefined;
    tokenGuard ??=
      tokenUrl && tokenUrl.hostname !== url.hostname
        ? createEgressGuard({
            allowHosts: [tokenUrl.hostname],
            allowHttpHosts: http.allowHttp ? [tokenUrl.hostname] : [],
            allowAddresses: http.allowAddresses,
            maxRedirects: 0,
            maxBytes: 64 * 1024,
          })
        : guard;
    return createHttpChannel({
      upstream: config.name,
      url: http.url,
      guard,
      headers: http.headers,
      auth: deps.person
        ? deps.person.auth
        : auth &&
          createHttpAuth(auth, {
            guard: tokenGuard,
            upstream: config.name,
            now: Date.now,
            onToken: learnSecret,
          }),
    });
  }

  /** Tools, and prompts and resource templates when the server declares them. */
  async function listEverything(connection: RpcConnection, id: ServerIdentity) {
    const timeoutMs = config.startTimeoutSeconds * 1000;
    const tools = await listTools(connection, { timeoutMs });
    // A server may declare resources without templates (or answer prompts/list with an error):
    // an error answer serves none of that kind; only a hung or broken server is restarted.
    const optional = async <T>(what: string, list: () => Promise<T>, none: T): Promise<T> => {
      try {
        return await list();
      } catch (err) {
        if (!isUpstreamError(err) || err.code !== 'upstream-rpc-error') throw err;
        log.warn({ detail: safe(describeError(err)) }, `${what} failed; none are served`);
        return none;
      }
    };
    const prompts = id.capabilities.prompts
      ? await optional('prompts/list', () => listPrompts(connection, { timeoutMs }), {
          prompts: [],
          malformed: [],
        })
      : { prompts: [], malformed: [] };
    const templates = id.capabilities.resources
      ? await optional('resources/templates/list', () => listResourceTemplates(connection, { timeoutMs }), {
          resourceTemplates: [],
          malformed: [],
        })
      : { resourceTemplates: [], malformed: [] };
    return {
      tools: tools.tools,
      prompts: prompts.prompts,
      resourceTemplates: templates.resourceTemplates,
      malformed: [...tools.malformed, ...prompts.malformed, ...templates.malformed],
    };
  }

  const LIST_CHANGED: Readonly<Record<string, 'tools' | 'prompts' | 'resources'>> = {
    'notifications/tools/list_changed': 'tools',
    'notifications/prompts/list_changed': 'prompts',
    'notifications/resources/list_changed': 'resources',
  };

  /** Lists announced as changed and not yet re-listed: a flood of announcements is one event each. */
  const announced = new Set<'tools' | 'prompts' | 'resources'>();
  /** Times of the resource updates passed on in the last second (at most RESOURCE_UPDATES_PER_SECOND). */
  const updates: number[] = [];

  function onServerNotification(method: string, params: unknown) {
    const list = LIST_CHANGED[method];
    if (list) {
      announced.add(list);
      // Re-listing re-pins: a changed definition is blocked before anyone is told of it.
      void relist().then(() => {
        for (const l of announced) deps.onEvent?.({ kind: 'list-changed', list: l });
        announced.clear();
      });
      return;
    }
    if (method === 'notifications/resources/updated') {
      const uri = (params as { uri?: unknown } | undefined)?.uri;
      if (typeof uri !== 'string' || uri === '' || uri.length > 2048) return;
      const t = Date.now();
      while (updates.length > 0 && updates[0]! <= t - 1000) updates.shift();
      if (updates.length >= RESOURCE_UPDATES_PER_SECOND) return;
      updates.push(t);
      deps.onEvent?.({ kind: 'resource-updated', uri });
    }
  }

  function teardown() {
    const c = conn;
    conn = undefined;
    void c?.close();
    child?.kill();
    child = undefined;
  }

  function scheduleRestart(reason: string) {
    if (state === 'stopped' || state === 'refused') return;
    failures++;
    lastError = safe(reason);
    const plan = nextRestart(failures);
    retryAt = Date.now() + plan.delayMs;
    setState(plan.circuitOpen ? 'circuit-open' : 'restarting');
    log.warn(
      {
        ...(plan.circuitOpen ? { alert: 'upstream-circuit-open' } : {}),
        reason: lastError,
        failures,
        retryInMs: plan.delayMs,
        ...(stderrTail.length ? { stderr: stderrTail.map(safe) } : {}),
      },
      plan.circuitOpen ? 'upstream keeps failing; circuit open' : 'upstream down; restarting after back-off',
    );
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      restarts++;
      void connect();
    }, plan.delayMs);
    retryTimer.unref();
  }

  async function connect(): Promise<void> {
    if (state === 'stopped') return;
    setState('starting');
    const timeoutMs = config.startTimeoutSeconds * 1000;
    let connection: RpcConnection | undefined;
    try {
      const channel = transport === 'stdio' ? await openStdio() : await openHttp();
      connection = createRpcConnection(channel, {
        upstream: config.name,
        onNotification: onServerNotification,
        onDroppedNotification(method, why) {
          log.debug({ method, why }, 'dropped a notification no caller could be held responsible for');
        },
        relayed: relayedRequests(config),
        onDeniedRequest(method) {
          log.warn(
            { alert: 'upstream-request-denied', method },
            'refused a server-to-client request from an upstream',
          );
        },
      });
      conn = connection;
      identity = await negotiate(connection, channel, timeoutMs);
      // A 2025 HTTP server announces changes on its standalone stream (2026-07-28: not yet).
      if (identity.era === 'legacy') channel.listen?.();
      const listed = await listEverything(connection, identity);
      if (conn !== connection || (state as UpstreamState) === 'stopped') return;
      failures = 0;
      lastError = undefined;
      retryAt = undefined;
      setState('up');
      log.info(
        {
          server: identity.name,
          version: identity.version,
          protocolVersion: identity.protocolVersion,
          tools: listed.tools.length,
          prompts: listed.prompts.length,
          resourceTemplates: listed.resourceTemplates.length,
        },
        'upstream connected',
      );
      deps.onListing({ identity, ...listed });
      if (identity.era === 'legacy' && identity.capabilities.resources?.subscribe) {
        for (const uri of subscriptions.keys()) {
          void connection.request('resources/subscribe', { uri }, { timeoutMs }).catch((err: unknown) => {
            log.warn(
              { detail: safe(describeError(err)) },
              'cannot subscribe again to a resource after a restart',
            );
          });
        }
      }
      void connection.closed.then((reason) => {
        if (conn !== connection) return;
        teardown();
        scheduleRestart(`connection closed: ${reason}`);
      });
    } catch (err) {
      if (conn === connection) teardown();
      if (err === RETRY_AS_LEGACY) {
        log.info('the server stopped on the 2026-07-28 probe; starting it again and speaking 2025 to it');
        return connect();
      }
      if (err instanceof SandboxError && err.code === 'sandbox-unavailable') {
        lastError = err.publicMessage;
        setState('refused');
        log.error(
          { alert: 'upstream-sandbox-unavailable', reason: err.publicMessage },
          'REFUSING to start a stdio upstream without a sandbox',
        );
        return;
      }
      scheduleRestart(describeError(err));
    }
  }

  /**
   * The era handshake (DESIGN.md, protocol): `server/discover` unless the operator chose 2025,
   * then `initialize` unless the operator chose 2026-07-28. Under `auto`, a server that closes on
   * the probe (a 2025 stdio server may exit on any request before `initialize`) is started again
   * and spoken to in 2025 from then on.
   */
  async function negotiate(connection: RpcConnection, channel: Channel, timeoutMs: number) {
    const mode = protocolMode(config);
    if (mode !== '2025' && !legacyOnly) {
      let modern: ServerIdentity | undefined;
      try {
        modern = await discover(connection, channel, {
          timeoutMs: mode === 'auto' ? Math.min(timeoutMs, PROBE_TIMEOUT_MS) : timeoutMs,
          clientVersion: deps.clientVersion,
        });
      } catch (err) {
        if (
          mode === 'auto' &&
          transport === 'stdio' &&
          isUpstreamError(err) &&
          err.code === 'upstream-closed'
        ) {
          legacyOnly = true;
          throw RETRY_AS_LEGACY;
        }
        throw err;
      }
      if (modern) return modern;
      if (mode === '2026-07-28') {
        throw new UpstreamError(
          'upstream-protocol-error',
          `The upstream server "${config.name}" does not speak MCP 2026-07-28 (its \`protocol\` is set to it).`,
        );
      }
    }
    return initialize(connection, channel, {
      timeoutMs,
      clientVersion: deps.clientVersion,
      capabilities: clientCapabilities(config),
    });
  }

  async function relist(): Promise<void> {
    if (relisting) {
      relistAgain = true;
      return relisting;
    }
    relisting = (async () => {
      do {
        relistAgain = false;
        // A listing starts at least RELIST_GAP_MS after the last one ended, whether the
        // announcement came during that listing or just after it: a server flooding list_changed
        // gets at most one listing a second, not one per notification (nor two a second, one
        // right after each pause).
        const wait = lastListedAt + RELIST_GAP_MS - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
        const connection = conn;
        if (!connection || state !== 'up' || !identity) return;
        try {
          const listed = await listEverything(connection, identity);
          lastListedAt = Date.now();
          if (conn === connection) deps.onListing({ identity, ...listed });
        } catch (err) {
          // A server that cannot list its tools any more is hung or broken: restart it.
          if (conn !== connection) return;
          teardown();
          scheduleRestart(`re-listing failed: ${describeError(err)}`);
          return;
        }
      } while (relistAgain);
    })().finally(() => (relisting = undefined));
    return relisting;
  }

  function unavailable(): ToolInputError {
    const until = retryAt
      ? ` Retrying in about ${Math.max(1, Math.ceil((retryAt - Date.now()) / 1000))} s.`
      : '';
    switch (state) {
      case 'refused':
        return new ToolInputError(
          `The upstream server "${config.name}" is not running: no sandbox is available for it.`,
        );
      case 'circuit-open':
        return new ToolInputError(
          `The upstream server "${config.name}" is unavailable after repeated failures.${until}`,
        );
      case 'stopped':
        return new ToolInputError(`The upstream server "${config.name}" is shutting down.`);
      default:
        return new ToolInputError(
          `The upstream server "${config.name}" is restarting after a failure.${until} Try again shortly.`,
        );
    }
  }

  /** The caller's answer to what this upstream asked, labelled as this upstream's request. */
  const inputRelay =
    (ask: NonNullable<ToolContext['requestInput']>) =>
    (method: InputRequestMethod, params: Record<string, unknown>, key?: string) => {
      if (method === 'elicitation/create' && params.mode === 'url' && !config.inputRequests.urlElicitation)
        return Promise.reject(new Error('URL elicitation is not relayed for this server.'));
      log.info({ method }, 'relaying a request of the upstream to the person behind the call');
      return ask({ method, params, upstream: config.name, ...(key !== undefined ? { key } : {}) });
    };

  async function request(
    method: string,
    params: Record<string, unknown>,
    ctx: ToolContext,
  ): Promise<unknown> {
    const connection = conn;
    if (!connection || state !== 'up') throw unavailable();
    const relay = createCallRelay(ctx, { redact: deps.redactText ?? ((t) => redactor.redact(t).text) });
    // 2026-07-28: the request declares what its caller can answer, as far as the operator relays it.
    const modern = identity?.era === 'modern';
    const callerDeclared = ctx.clientCapabilities ?? {};
    const declared = modern ? relayedCapabilities(callerDeclared, config.inputRequests) : {};
    const send = (p: Record<string, unknown>) =>
      connection.request(method, p, {
        timeoutMs: config.callTimeoutSeconds * 1000,
        signal: ctx.signal,
        forCaller: true,
        ...(modern
          ? {
              meta: requestEnvelope({
                clientVersion: deps.clientVersion,
                capabilities: declared,
                ...(ctx.logLevel ? { logLevel: ctx.logLevel } : {}),
              }),
            }
          : {}),
        ...(relay.progressToken !== undefined ? { progressToken: relay.progressToken } : {}),
        ...(relay.onNotification ? { onNotification: relay.onNotification } : {}),
        ...(ctx.requestInput ? { onInputRequest: inputRelay(ctx.requestInput) } : {}),
      });
    try {
      const result = await send(params);
      if (!modern) return result;
      const ask = ctx.requestInput ? inputRelay(ctx.requestInput) : undefined;
      const final = isInputRequired(result)
        ? await answerInputRequired(result, {
            upstream: config.name,
            params,
            send,
            ask: ask && ((r) => ask(r.method, r.params, r.key)),
            declared,
            callerDeclared,
            onRound: (keys) =>
              log.info({ requestId: ctx.requestId, method, keys }, 'the upstream asked the caller for input'),
          })
        : result;
      return completeResult(final);
    } catch (err) {
      if (modern && isUpstreamError(err) && err.rpc?.code === MISSING_CAPABILITY) {
        throw missingCapability(err, callerDeclared);
      }
      if (isUpstreamError(err)) {
        const name = typeof params.name === 'string' ? params.name : undefined;
        log.warn(
          {
            requestId: ctx.requestId,
            method,
            ...(name !== undefined ? { tool: name } : {}),
            code: err.code,
            detail: err.detail && safe(err.detail),
          },
          'upstream call failed',
        );
        throw new ToolInputError(err.publicMessage);
      }
      throw err;
    } finally {
      const { relayed, dropped } = relay.counts();
      if (Object.keys(dropped).length > 0) {
        log.debug({ requestId: ctx.requestId, method, relayed, dropped }, 'notifications of a call dropped');
      }
    }
  }

  /**
   * A 2026-07-28 server's -32021: what the caller could declare and retry with goes back to it as
   * -32021 naming just that; what no declaration of the caller can supply here (the operator
   * does not relay it) is a tool error that says so.
   */
  function missingCapability(err: UpstreamError, callerDeclared: Readonly<Record<string, unknown>>): Error {
    const split = splitRequired(err.rpc?.data, callerDeclared);
    log.warn(
      { detail: err.detail, required: split && safe(JSON.stringify(split)) },
      'the upstream needs a client capability',
    );
    if (split && split.gateway.length === 0 && Object.keys(split.caller).length > 0) {
      return new MissingCapabilityError(
        `The upstream server "${config.name}" needs client capabilities this request did not declare: ${Object.keys(split.caller).join(', ')}.`,
        split.caller,
      );
    }
    const names = split ? split.gateway.join(', ') : 'a client capability';
    return new ToolInputError(
      `The upstream server "${config.name}" needs ${names}, which the gateway does not relay to this server (see its inputRequests).`,
    );
  }

  return {
    name: config.name,
    async start() {
      if (sandboxed === false && transport === 'stdio') {
        log.warn(
          { alert: 'upstream-unsandboxed' },
          `UNSANDBOXED: upstream "${config.name}" runs with "sandbox: off" — full access to this machine's files and network as the gateway user`,
        );
      }
      await connect();
      relistTimer = setInterval(() => void relist(), config.relistIntervalSeconds * 1000);
      relistTimer.unref();
    },
    call: (toolName, args, ctx) => request('tools/call', { name: toolName, arguments: args ?? {} }, ctx),
    request,
    async subscribe(uri) {
      subscriptions.set(uri, (subscriptions.get(uri) ?? 0) + 1);
      const connection = conn;
      // 2026-07-28 has no resources/subscribe (updates come on subscriptions/listen, not opened yet).
      if (!connection || state !== 'up' || identity?.era === 'modern') return;
      await connection.request(
        'resources/subscribe',
        { uri },
        { timeoutMs: config.callTimeoutSeconds * 1000 },
      );
    },
    async unsubscribe(uri) {
      const holders = subscriptions.get(uri);
      if (holders === undefined) return;
      if (holders > 1) return void subscriptions.set(uri, holders - 1);
      subscriptions.delete(uri);
      const connection = conn;
      if (!connection || state !== 'up' || identity?.era === 'modern') return;
      await connection.request(
        'resources/unsubscribe',
        { uri },
        { timeoutMs: config.callTimeoutSeconds * 1000 },
      );
    },
    relist,
    health,
    async restart() {
      if (state === 'stopped' || state === 'refused') return;
      clearTimeout(retryTimer);
      failures = 0;
      retryAt = undefined;
      teardown();
      restarts++;
      log.info('upstream restarted by the operator');
      await connect();
    },
    async close() {
      setState('stopped');
      clearTimeout(retryTimer);
      clearInterval(relistTimer);
      const exiting = child?.exited;
      teardown();
      await exiting;
      await guard?.close();
      if (tokenGuard !== guard) await tokenGuard?.close();
    },
  };
}

/** The JSON-RPC code of `MissingRequiredClientCapabilityError` (2026-07-28 basic/lifecycle). */
const MISSING_CAPABILITY = -32021;

/** Thrown by negotiate() when a stdio server closed on the probe: connect again, in 2025. */
const RETRY_AS_LEGACY = new Error('retry as a 2025 server');

/**
 * A 2026-07-28 result the gateway can serve: `complete` (the discriminator is the gateway's to
 * set again for its own caller, so it is dropped here); any other kind is not one it can relay.
 */
function completeResult(result: unknown): unknown {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return result;
  const { resultType, ...rest } = result as Record<string, unknown>;
  if (resultType === undefined || resultType === 'complete') return rest;
  throw new UpstreamError(
    'upstream-protocol-error',
    'The upstream server answered with a result the gateway cannot relay.',
    { detail: `resultType ${JSON.stringify(resultType).slice(0, 40)}` },
  );
}

function describeError(err: unknown): string {
  if (isPortcullisError(err)) {
    return `${err.publicMessage}${err.detail ? ` (${err.detail})` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}
