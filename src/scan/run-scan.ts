import type { SandboxRequest } from '../sandbox/index.js';
import { createRedactor } from '../safety/index.js';
import { checkItem, looksLikeWrite } from './check-definitions.js';
import { checkHttpEndpoint, checkHttpSession, checkQueryToken, type AuthFacts } from './check-http.js';
import { baselineFor, compareInventories, type BaselineTarget } from './compare-baseline.js';
import { createScanGuard } from './create-scan-guard.js';
import { isScanError, ScanError } from './errors.js';
import { openHttpSession, type HttpSession, type HttpTarget } from './http-session.js';
import { loginWithOAuth, type OAuthLoginOptions } from './login-oauth.js';
import { listInventory, toInventoryItem, type Inventory, type Listed } from './list-inventory.js';
import { probeInvalidArguments, probeRateLimit } from './probe-active.js';
import { probeSelfRegisteredClientCredentials, requestClientCredentialsToken } from './request-token.js';
import type { ClientConfig } from './read-client-config.js';
import {
  finding,
  SCANNER_VERSION,
  sortFindings,
  summarise,
  type Finding,
  type ScanReport,
  type Target,
} from './report.js';
import type { Session } from './session.js';
import { openStdioSession } from './stdio-session.js';

export type TargetSpec =
  | {
      readonly transport: 'http';
      readonly url: URL;
      /** Credential headers; empty for an anonymous scan. */
      readonly headers: Readonly<Record<string, string>>;
      /** `--client-credentials`: a machine login at the server's authorization server. */
      readonly clientCredentials?: { readonly id: string; readonly secret: string };
      /** `--oauth`: a person's browser login; the URL to open is handed to this. */
      readonly oauth?: OAuthLoginOptions;
      /** Set for servers of a client configuration file. */
      readonly id?: string;
    }
  | {
      readonly transport: 'stdio';
      readonly command: string;
      readonly args: readonly string[];
      readonly env: Readonly<Record<string, string>>;
      readonly sandbox: SandboxRequest;
      readonly cwd?: string;
      readonly id?: string;
    };

export interface ScanOptions {
  readonly targets: readonly TargetSpec[];
  readonly active: boolean;
  /** Deadline of each request, in ms. */
  readonly requestTimeoutMs: number;
  /** Deadline of the scan of each target, in ms. */
  readonly targetTimeoutMs: number;
  readonly baseline?: readonly BaselineTarget[];
  readonly clientConfig?: ClientConfig;
  /** One line of progress (stderr, in the CLI). */
  readonly progress?: (line: string) => void;
  readonly now?: () => Date;
}

const masker = createRedactor({ patterns: true });

/** A target's id: its URL (without query or fragment), or its command line; secrets masked. */
export function targetIdOf(spec: TargetSpec): string {
  if (spec.id !== undefined) return spec.id;
  if (spec.transport === 'http') return `${spec.url.origin}${spec.url.pathname}`;
  return masker.redact(`stdio:${[spec.command, ...spec.args].join(' ')}`).text;
}

interface TargetOutcome {
  readonly target: Target;
  readonly findings: Finding[];
}

/** Tools no scope separates from read-only ones: listed only when the server names one scope or none. */
function scopeFindings(id: string, auth: AuthFacts, items: readonly Listed[]): Finding[] {
  if (!auth.required || auth.scopesSupported === undefined || auth.scopesSupported.length > 1) return [];
  const writers = items.filter((i) => i.kind === 'tool' && looksLikeWrite(i.name));
  if (writers.length === 0) return [];
  return [
    finding(
      'authz/one-scope-for-all',
      id,
      { kind: 'server' },
      `scopes_supported is ${JSON.stringify(auth.scopesSupported)} while ${writers.length} tool(s) change things (${writers
        .slice(0, 3)
        .map((w) => w.name)
        .join(', ')})`,
    ),
  ];
}

async function checkInventory(
  session: Session,
  id: string,
  opts: ScanOptions,
  progress: (s: string) => void,
): Promise<{ inventory: Inventory; findings: Finding[] }> {
  progress('listing tools, prompts and resources');
  const inventory = await listInventory(session);
  const counts = (['tool', 'prompt', 'resource', 'resource-template'] as const)
    .map((k) => `${inventory.items.filter((i) => i.kind === k).length} ${k}s`)
    .join(', ');
  progress(`checking ${counts}`);
  const findings = inventory.items.flatMap((item) => checkItem(id, item));
  for (const problem of inventory.problems)
    findings.push(finding('scan/partial', id, { kind: 'server', path: problem }, problem));
  if (opts.active) {
    progress('probing read-only tools with invalid arguments');
    findings.push(...(await probeInvalidArguments(session, id, inventory.items)));
    progress('listing again for drift');
    const again = await listInventory(session);
    findings.push(
      ...compareInventories(
        inventory.items.map(toInventoryItem),
        again.items.map(toInventoryItem),
        id,
        'relisting',
      ),
    );
  }
  return { inventory, findings };
}

async function scanHttp(
  spec: Extract<TargetSpec, { transport: 'http' }>,
  id: string,
  opts: ScanOptions,
  progress: (s: string) => void,
  closers: (() => Promise<void>)[],
) {
  const guard = await createScanGuard(spec.url, opts.requestTimeoutMs);
  closers.push(() => guard.close());
  let target: HttpTarget = { url: spec.url, guard, credential: spec.headers };
  progress('checking transport and authentication');
  const endpoint = await checkHttpEndpoint(target, id);
  const findings = [...endpoint.findings];
  if (spec.clientCredentials) {
    progress('requesting a client-credentials token');
    const { id: clientId, secret } = spec.clientCredentials;
    const token = await requestClientCredentialsToken(target, endpoint.auth, clientId, secret);
    target = { ...target, credential: { ...target.credential, authorization: `Bearer ${token}` } };
  }
  if (spec.oauth) {
    if (!endpoint.auth.required)
      throw new ScanError('scan-bad-input', '--oauth: the server asked for no credential');
    progress('signing in with OAuth (waiting for the browser)');
    const token = await loginWithOAuth(target, endpoint.auth, spec.oauth);
    target = { ...target, credential: { ...target.credential, authorization: `Bearer ${token}` } };
  }
  const hasCredential = Object.keys(target.credential).length > 0;
  if (hasCredential && endpoint.auth.required) findings.push(...(await checkQueryToken(target, id)));
  let session: HttpSession | undefined;
  if (hasCredential) {
    const open = await openHttpSession(target);
    if (open.kind === 'refused') {
      throw new ScanError(
        'scan-connect-failed',
        `the server refused the given credential (HTTP ${open.exchange.status})`,
      );
    }
    session = open.session;
  } else if (endpoint.listedWithoutCredential) {
    const open = await openHttpSession({ ...target, credential: {} });
    if (open.kind === 'open') session = open.session;
  } else if (endpoint.refusedStatus === 401 || endpoint.refusedStatus === 403) {
    findings.push(
      finding(
        'scan/credential-needed',
        id,
        { kind: 'server' },
        `HTTP ${endpoint.refusedStatus} without a credential`,
      ),
    );
  } else {
    throw new ScanError(
      'scan-protocol-error',
      `the server did not complete an MCP handshake (HTTP ${endpoint.refusedStatus ?? '?'})`,
    );
  }
  if (!session) {
    return { findings, listed: false, items: [] as Listed[], hello: undefined };
  }
  const opened = session;
  closers.push(() => opened.close());
  const { inventory, findings: more } = await checkInventory(session, id, opts, progress);
  findings.push(...more, ...(await checkHttpSession(target, id, session, endpoint.auth)));
  findings.push(...scopeFindings(id, endpoint.auth, inventory.items));
  if (opts.active && endpoint.auth.required) {
    progress('registering a client for the client_credentials grant');
    findings.push(...(await probeSelfRegisteredClientCredentials(target, id, endpoint.auth)));
  }
  if (opts.active) {
    progress('rate-limit burst (at most 200 requests)');
    findings.push(...(await probeRateLimit(session, id, inventory.items)));
  }
  return { findings, listed: inventory.toolsListed, items: inventory.items, hello: session.hello };
}

async function scanStdio(
  spec: Extract<TargetSpec, { transport: 'stdio' }>,
  id: string,
  opts: ScanOptions,
  progress: (s: string) => void,
  closers: (() => Promise<void>)[],
) {
  progress('starting the server in the sandbox');
  const session = await openStdioSession({ ...spec, timeoutMs: opts.requestTimeoutMs });
  closers.push(() => session.close());
  const { inventory, findings } = await checkInventory(session, id, opts, progress);
  return { findings, listed: inventory.toolsListed, items: inventory.items, hello: session.hello };
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|ERR_TLS/;

function tlsProblem(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TLS_CODES.test(code)) return code;
  }
  return undefined;
}

async function scanTarget(spec: TargetSpec, opts: ScanOptions, targetCount: number): Promise<TargetOutcome> {
  const id = targetIdOf(spec);
  const progress = (s: string) => opts.progress?.(`${id}: ${s}`);
  const location = spec.transport === 'http' ? spec.url.href : id.replace(/^stdio:/, '');
  const closers: (() => Promise<void>)[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ScanError(
            'scan-timeout',
            `the scan of this server took longer than ${opts.targetTimeoutMs} ms`,
          ),
        ),
      opts.targetTimeoutMs,
    );
  });
  try {
    const work =
      spec.transport === 'http'
        ? scanHttp(spec, id, opts, progress, closers)
        : scanStdio(spec, id, opts, progress, closers);
    // The work goes on after a deadline until its sessions are closed below; its late failure is
    // already reported as the timeout.
    work.catch(() => {});
    const result = await Promise.race([work, deadline]);
    const inventory = result.items.map(toInventoryItem);
    const target: Target = {
      id,
      transport: spec.transport,
      location: masker.redact(location).text,
      ...(result.hello
        ? { protocolVersion: result.hello.protocolVersion, server: result.hello.serverInfo ?? {} }
        : {}),
      listed: result.listed,
      inventory,
    };
    const findings = [...result.findings];
    const base = opts.baseline ? baselineFor(opts.baseline, target, targetCount) : undefined;
    if (base) findings.push(...compareInventories(base.inventory, inventory, id, 'baseline'));
    return { target, findings };
  } catch (err) {
    const message = isScanError(err) ? err.publicMessage : err instanceof Error ? err.message : String(err);
    const tls = tlsProblem(err);
    const findings = [finding('scan/target-failed', id, { kind: 'server' }, masker.redact(message).text)];
    if (tls)
      findings.push(finding('transport/tls-invalid', id, { kind: 'server' }, `TLS handshake failed: ${tls}`));
    return {
      target: {
        id,
        transport: spec.transport,
        location: masker.redact(location).text,
        listed: false,
        inventory: [],
        error: masker.redact(message).text,
      },
      findings,
    };
  } finally {
    clearTimeout(timer);
    for (const close of closers.reverse()) await close().catch(() => {});
  }
}

/** The same tool name on two servers of one client: either can receive the other's calls. */
function shadowingFindings(outcomes: readonly TargetOutcome[]): Finding[] {
  const owners = new Map<string, string[]>();
  for (const o of outcomes) {
    for (const item of o.target.inventory) {
      if (item.kind !== 'tool') continue;
      owners.set(item.name, [...(owners.get(item.name) ?? []), o.target.id]);
    }
  }
  return [...owners].flatMap(([name, ids]) =>
    ids.length < 2
      ? []
      : ids.map((id) =>
          finding(
            'poisoning/tool-shadowing',
            id,
            { kind: 'tool', name },
            `also served by ${ids.filter((o) => o !== id).join(', ')}`,
          ),
        ),
  );
}

/** Scans every target, one after the other, and builds the report. */
export async function runScan(opts: ScanOptions): Promise<ScanReport> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const outcomes: TargetOutcome[] = [];
  for (const spec of opts.targets) outcomes.push(await scanTarget(spec, opts, opts.targets.length));
  const findings = sortFindings([
    ...(opts.clientConfig?.findings ?? []),
    ...outcomes.flatMap((o) => o.findings),
    ...shadowingFindings(outcomes),
  ]);
  return {
    schemaVersion: 1,
    tool: { name: 'portcullis-scan', version: SCANNER_VERSION },
    startedAt,
    finishedAt: now().toISOString(),
    mode: opts.active ? 'active' : 'passive',
    ...(opts.clientConfig ? { clientConfig: opts.clientConfig.file } : {}),
    targets: outcomes.map((o) => o.target),
    findings,
    summary: summarise(findings),
  };
}
