import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  emptyLockfile,
  hashDefinition,
  importLegacyPinFiles,
  INSTRUCTIONS_KEY,
  loadPins,
  LOCKFILE_NAME,
  parsePinKey,
  pinStateOf,
  promptKey,
  templateKey,
  writeLockfile,
  type Lockfile,
  type ObservedItem,
  type ObservedUpstream,
  type PinState,
} from '../pins/index.js';
import {
  createDefinitionRedactor,
  createRedactor,
  flagLeaks,
  scanDefinition,
  type DefinitionReport,
  type LeakedSecret,
} from '../safety/index.js';
import { probeSandbox, type SandboxProbe } from '../sandbox/index.js';
import type { VaultClient } from '../secrets/index.js';
import type { PinChange, PinStore } from '../storage/index.js';
import { joinResourceUri, type Catalogue, type SurfaceEvent, type Tool } from '../tools/index.js';
import { buildUpstreamSurface } from './build-surface.js';
import { buildUpstreamTool, createSchemaCompiler } from './build-tool.js';
import { classifyTool } from './classify-tool.js';
import type { UpstreamConfig } from './config.js';
import type {
  MalformedTool,
  PromptDefinition,
  ResourceTemplateDefinition,
  ToolDefinition,
} from './mcp-client.js';
import type { PersonCredentialSource } from './person-credentials.js';
import { createPersonSessions, type PersonSessions } from './person-sessions.js';
import {
  describeTarget,
  superviseUpstream,
  type SuperviseDeps,
  type Listing,
  type UpstreamHealth,
  type UpstreamSupervisor,
} from './supervise-upstream.js';

export interface UpstreamManagerOptions {
  readonly upstreams: readonly UpstreamConfig[];
  readonly catalogue: Catalogue;
  /** Hidden from sandboxed servers; an install from before the pin store may hold pin files to import. */
  readonly dataDir: string;
  /** The approved and rejected definitions and the observations, shared by every replica. */
  readonly pins: PinStore;
  /** The gateway's environment: source of secrets and of the allow-listed variables. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Secret values of the gateway itself (signing keys). With every upstream's resolved secrets,
   * they are redacted from tool definitions before anything is hashed, written or served.
   */
  readonly knownSecrets?: readonly string[];
  readonly logger: Logger;
  readonly now?: () => Date;
  /** What the sandbox can do here (default: probed once). */
  readonly probe?: SandboxProbe;
  readonly vault?: VaultClient;
  readonly metrics?: { setUpstreamUp(upstream: string, up: boolean): void };
  /**
   * How often the pin store's revision is checked for decisions made elsewhere (the CLI, the
   * console, another replica); default 1000 ms; 0: never.
   */
  readonly lockfilePollMs?: number;
  readonly clientVersion?: string;
  /**
   * People's own credentials (connections/), for upstreams with `auth`. Without it such an
   * upstream's calls are refused (never made with the shared credential).
   */
  readonly personCredentials?: PersonCredentialSource;
}

/**
 * An upstream that takes people's credentials over HTTP and has no credential of its own cannot
 * list its tools by itself (such servers refuse unauthenticated requests): a connected person's
 * session lists it instead, through the same pinning as any listing.
 */
const listsThroughPeople = (config: UpstreamConfig) =>
  config.auth !== undefined && config.http !== undefined && config.http.auth === undefined;

/** How alerts and logs name each kind of pinned item. */
const KIND_TEXT = {
  tool: 'tool definition',
  prompt: 'prompt definition',
  'resource-template': 'resource template',
  instructions: 'server instructions',
} as const;

const NOT_PROBED: SandboxProbe = {
  platform: process.platform,
  bwrap: undefined,
  bwrapVersion: undefined,
  namespaces: false,
  userNamespace: false,
  prlimit: undefined,
  available: false,
  problem: 'not probed',
};

/**
 * Where one pinned item of an upstream stands (a tool, `prompt:<name>`, `resource-template:<uri>`,
 * the instructions), for the admin UI and tests.
 */
export interface PinnedItemStatus {
  readonly upstream: string;
  readonly key: string;
  readonly state: PinState;
  readonly served: boolean;
  readonly scan: DefinitionReport;
}

export interface UpstreamManager {
  /** Starts every upstream and waits for each first listing (or failure). Never rejects for an upstream. */
  start(): Promise<void>;
  health(): UpstreamHealth[];
  /** Restarts one upstream now (the console's Restart); false when there is no such upstream. */
  restart(name: string): Promise<boolean>;
  /** Pin state of everything the upstreams currently list. */
  pins(): PinnedItemStatus[];
  /** Secret values resolved for upstreams so far: feed them to the redactor. */
  knownSecrets(): string[];
  /** Called with each newly resolved secret (a rotated token, a fresh access token). */
  onSecret(listener: (value: string) => void): void;
  /** Re-reads the pins and re-publishes tools (also done when the store's revision moves). */
  reloadPins(): Promise<void>;
  /**
   * Called when what an upstream serves changes: a resource it announced as updated (URI in the
   * gateway's namespace), or a list whose served items changed (a definition approved, changed
   * and blocked, added, removed) — for the gateway to tell the callers who may see it.
   */
  onSurfaceEvent(listener: (upstream: string, event: SurfaceEvent) => void): void;
  /** Stops a person's sessions of an upstream (after a disconnection), so the next call starts afresh. */
  stopPersonSessions(upstream: string, person: { tenant: string; subject: string }): Promise<void>;
  /**
   * Opens a person's session of an upstream listed through people's sessions (see
   * `listsThroughPeople`), when nothing has listed it yet: their listing then serves it.
   */
  listThroughPerson(upstream: string, person: { tenant: string; subject: string }): Promise<void>;
  /** Upstreams whose tools are listed through a person's session: http, `auth`, no shared credential. */
  listsThroughPeople(): string[];
  /**
   * Tries a pasted key (person-secret) with the upstream's configured test call, in a session of
   * its own that is closed afterwards: undefined when it worked, else words for the person.
   */
  testPersonCredential(upstream: string, value: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Owns the upstream servers: supervises each, pins and scans their definitions, and publishes
 * approved tools into the catalogue. Only tools whose exact definition is approved in the
 * lockfile (and whose server instructions are approved, if it has any) are ever listed or
 * callable; anything new or changed is blocked, scanned and alerted on until a person approves.
 */
export function createUpstreamManager(options: UpstreamManagerOptions): UpstreamManager {
  const { catalogue, logger } = options;
  const now = options.now ?? (() => new Date());
  const store = options.pins;
  // Probing runs bwrap; only worth it when some upstream is to be sandboxed.
  const probe =
    options.probe ??
    (options.upstreams.some((u) => u.stdio && u.sandbox !== 'off') ? probeSandbox() : NOT_PROBED);
  const configs = new Map(options.upstreams.map((u) => [u.name, u]));
  /** What each server listed, as it sent it (kept to redact again when a new secret is learned). */
  const rawListings = new Map<string, Listing>();
  /** The same listings with every known secret value redacted: the only form served or stored. */
  const listings = new Map<string, Listing>();
  /** Pin keys of what each upstream serves now. */
  const served = new Map<string, ReadonlySet<string>>();
  /** What each upstream's published lists were (key and hash of each item), to tell when one changes. */
  const publishedLists = new Map<string, Record<'tools' | 'prompts' | 'resources', string>>();
  const surfaceListeners: ((upstream: string, event: SurfaceEvent) => void)[] = [];
  const emit = (upstream: string, event: SurfaceEvent) => {
    for (const l of surfaceListeners) {
      try {
        l(upstream, event);
      } catch (err) {
        logger.warn({ upstream, err }, 'a surface event listener failed');
      }
    }
  };
  /** The upstream served with an empty namespace, if any (config allows at most one). */
  const unprefixed = options.upstreams.find((u) => u.namespace === '')?.name;
  /** Names alerted on as colliding, so one collision alerts once. */
  const collisionAlerted = new Set<string>();
  const scans = new Map<string, DefinitionReport>();
  /** `${upstream}\0${key}\0${hash}` of blocked items already alerted on, so one change alerts once. */
  const alerted = new Set<string>();
  const secrets = new Set<string>();
  const secretListeners: ((value: string) => void)[] = [];
  /**
   * What this process itself last saw of each upstream. Only its own listings: what the store
   * says another replica observed is never what this one serves (its upstream may say otherwise).
   */
  const observed: Record<string, ObservedUpstream> = {};
  let redactDefinition = createDefinitionRedactor(options.knownSecrets ?? []);
  /** Known secrets and token-shaped strings out of relayed progress and log text. */
  let relayRedactor = createRedactor({ secrets: options.knownSecrets ?? [] });

  /** The pins as last read from the store; empty (nothing approved) until read, or after a failed read. */
  let lock: Lockfile = emptyLockfile();
  /** The store revision `lock` was read at; undefined: read again at the next poll. */
  let revision: number | undefined;
  /** Store work (reads, writes) in order, one at a time: decisions apply in the order they were made. */
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>): Promise<void> => {
    queue = queue.then(work).catch((err: unknown) => logger.error({ err }, 'pin store work failed'));
    return queue;
  };
  let unreadable = false;

  /**
   * Reads the pins from the store. A failed read approves nothing: fail closed, loudly, and keep
   * the gateway up; the next poll reads again. An approval whose definition does not hash to its
   * hash (a row edited in the database) is not trusted (pins/pin-store.ts).
   */
  async function readPins(): Promise<void> {
    try {
      const read = await loadPins(store);
      lock = read.lock;
      revision = read.revision;
      if (unreadable) logger.info('the pin store is readable again');
      unreadable = false;
      for (const b of read.broken) {
        const id = `broken\0${b.upstream}\0${b.key}\0${read.revision}`;
        if (alerted.has(id)) continue;
        alerted.add(id);
        logger.error(
          { alert: 'pin-hash-mismatch', upstream: b.upstream, tool: b.key },
          `the stored approval of ${b.upstream} ${b.key} does not hash to its definition; not trusted (was the database edited?)`,
        );
      }
    } catch (err) {
      lock = emptyLockfile();
      revision = undefined;
      if (!unreadable) {
        logger.error(
          { alert: 'lockfile-unreadable', err },
          'cannot read the pins from the storage backend; every upstream tool is blocked',
        );
      }
      unreadable = true;
    }
  }

  /** Applies pin changes and reads the pins back (what is served is always what the store holds). */
  async function applyPins(changes: readonly PinChange[]): Promise<void> {
    try {
      await store.apply(changes);
    } catch (err) {
      logger.error({ err }, 'cannot write pin decisions to the storage backend');
    }
    await readPins();
  }

  const scanOf = (hash: string, definition: unknown): DefinitionReport => {
    let report = scans.get(hash);
    if (!report) {
      report = scanDefinition(definition);
      scans.set(hash, report);
    }
    return report;
  };

  /**
   * A listing with every secret value the gateway knows redacted — definitions (keys and all),
   * instructions, server name and version, malformed entries — and where secrets were found, by
   * pinned key. A tool whose very name carries a secret cannot be served under any name: it is
   * listed as malformed. Everything downstream (hash, scan, lockfile, observed file, catalogue)
   * sees only this form, so a secret is never hashed, written or served.
   */
  function redactListing(raw: Listing): { listing: Listing; leaks: Map<string, readonly LeakedSecret[]> } {
    const leaks = new Map<string, readonly LeakedSecret[]>();
    const malformed: MalformedTool[] = raw.malformed.map((m) => redactDefinition(m).value);
    /** Each definition redacted; one whose identifying field held a secret cannot be served under any name. */
    const redactAll = <T>(defs: readonly T[], keyOf: (d: T) => string): T[] => {
      const out: T[] = [];
      for (const def of defs) {
        const r = redactDefinition(def);
        if (keyOf(r.value) !== keyOf(def)) {
          malformed.push({ name: keyOf(r.value), problem: 'its name contains a secret value; not served' });
          continue;
        }
        out.push(r.value);
        if (r.leaks.length > 0) leaks.set(keyOf(def), r.leaks);
      }
      return out;
    };
    const tools = redactAll<ToolDefinition>(raw.tools, (t) => t.name);
    const prompts = redactAll<PromptDefinition>(raw.prompts, (p) => promptKey(p.name));
    const resourceTemplates = redactAll<ResourceTemplateDefinition>(raw.resourceTemplates, (t) =>
      templateKey(t.uriTemplate),
    );
    const { instructions, ...rest } = raw.identity;
    const identity = redactDefinition(rest).value;
    const shown = instructions === undefined ? undefined : redactDefinition({ instructions });
    if (shown && shown.leaks.length > 0) leaks.set(INSTRUCTIONS_KEY, shown.leaks);
    return {
      listing: {
        identity: { ...identity, instructions: shown?.value.instructions },
        tools,
        prompts,
        resourceTemplates,
        malformed,
      },
      leaks,
    };
  }

  /**
   * Secrets learned after something was written (a rotated credential, an upstream started
   * later, an imported lockfile, an approval from before this check): an approved definition
   * that holds one loses its approval — it is blocked until a person approves its redacted form —
   * and the store no longer carries it; observed entries that hold one are dropped until the
   * server lists again. Withdrawals name the hash they withdraw, so an approval made meanwhile
   * (by the CLI, another replica) is not lost. Runs on every read of the pins.
   */
  async function scrubStoredSecrets() {
    const withdraw: PinChange[] = [];
    for (const [name, u] of Object.entries(lock.upstreams)) {
      for (const [key, pin] of Object.entries(u.approved)) {
        if (redactDefinition(pin.definition).leaks.length > 0)
          withdraw.push({ op: 'withdraw', upstream: name, key, hash: pin.hash });
      }
    }
    if (withdraw.length > 0) {
      await applyPins(withdraw);
      // A lockfile left in the data directory by an install from before the pin store is not
      // read any more, but must not keep in clear a secret the store just dropped.
      const legacy = path.join(options.dataDir, LOCKFILE_NAME);
      try {
        if (fs.existsSync(legacy)) writeLockfile(legacy, lock);
      } catch (err) {
        logger.warn({ err, file: legacy }, 'cannot scrub the old lockfile in the data directory');
      }
      logger.warn(
        {
          alert: 'upstream-definition-secret',
          items: withdraw.map((w) => `${w.upstream} ${w.key}`),
        },
        'approved definitions hold a secret value: approval withdrawn and the stored pins scrubbed (portcullis pins diff)',
      );
    }
    const stale = Object.keys(observed).filter((name) => redactDefinition(observed[name]).leaks.length > 0);
    for (const name of stale) delete observed[name];
    try {
      const shared = await store.observed();
      for (const name of Object.keys(shared)) {
        if (redactDefinition(shared[name]).leaks.length > 0) await store.deleteObserved(name);
      }
    } catch (err) {
      logger.warn({ err }, 'cannot scrub the observed definitions in the storage backend');
    }
  }

  /** Reads the pins, withdraws any that hold a known secret, and publishes every upstream again. */
  async function refresh(): Promise<void> {
    await readPins();
    await scrubStoredSecrets();
    for (const name of supervisors.keys()) publish(name);
  }

  /**
   * The pinned items of a listing: each tool, prompt and resource template definition (keys in
   * pins/pin-keys.ts), and the instructions if any. Prompts and templates are hashed and scanned
   * exactly as tools are: a poisoned prompt description or argument description is found the same way.
   */
  function itemsOf(
    upstream: string,
    listing: Listing,
    leaks: ReadonlyMap<string, readonly LeakedSecret[]>,
  ): Record<string, ObservedItem> {
    const items: Record<string, ObservedItem> = {};
    const add = (key: string, definition: unknown) => {
      let hash: string;
      try {
        hash = hashDefinition(definition);
      } catch (err) {
        logger.warn({ upstream, tool: key, err }, 'definition cannot be canonicalised; blocked');
        return;
      }
      // The cached scan is of the (redacted) text; whether a secret was cut out of it is per listing.
      items[key] = { hash, definition, scan: flagLeaks(scanOf(hash, definition), leaks.get(key) ?? []) };
    };
    if (listing.identity.instructions !== undefined)
      add(INSTRUCTIONS_KEY, { instructions: listing.identity.instructions });
    for (const tool of listing.tools) add(tool.name, tool);
    for (const prompt of listing.prompts) add(promptKey(prompt.name), prompt);
    for (const template of listing.resourceTemplates) add(templateKey(template.uriTemplate), template);
    return items;
  }

  function alertOnce(upstream: string, key: string, item: ObservedItem, state: PinState) {
    const id = `${upstream}\0${key}\0${item.hash}`;
    if (alerted.has(id) || state === 'approved' || state === 'rejected') return;
    alerted.add(id);
    const findings = [...new Set(item.scan.findings.map((f) => f.rule))];
    const what = KIND_TEXT[parsePinKey(key).kind];
    logger.warn(
      {
        alert: state === 'changed' ? 'upstream-definition-changed' : 'upstream-definition-new',
        upstream,
        tool: key,
        hash: item.hash,
        scan: { verdict: item.scan.verdict, score: item.scan.score, rules: findings },
      },
      state === 'changed'
        ? `${what} of ${upstream} changed; blocked until approved (portcullis pins diff ${upstream})`
        : `new ${what} from ${upstream}; blocked until approved (portcullis pins list)`,
    );
    if (item.scan.verdict !== 'clean') {
      logger.warn(
        {
          alert: 'upstream-definition-flagged',
          upstream,
          tool: key,
          verdict: item.scan.verdict,
          rules: findings,
        },
        findings.includes('known-secret')
          ? `${what} of ${upstream} carries a secret value the gateway knows (redacted; approve it only by name)`
          : `${what} of ${upstream} looks like prompt injection (${item.scan.verdict})`,
      );
    }
  }

  /** Trust on first use: approve definitions never seen before, unless the scan calls them malicious. */
  async function trustOnFirstUse(upstream: string, items: Record<string, ObservedItem>) {
    const fresh = Object.entries(items)
      .filter(([key, item]) => pinStateOf(lock.upstreams[upstream], key, item.hash) === 'pending')
      .filter(([, item]) => item.scan.verdict !== 'malicious');
    if (fresh.length === 0) return;
    const at = now();
    await applyPins(
      fresh.map(([key, item]) => ({
        op: 'approve',
        upstream,
        key,
        hash: item.hash,
        definition: item.definition,
        at,
      })),
    );
    logger.info(
      { upstream, tools: fresh.map(([key]) => key) },
      'trusted on first use: definitions approved into the pin store',
    );
  }

  async function writeObserved(upstream: string) {
    try {
      await store.putObserved(upstream, observed[upstream]);
    } catch (err) {
      logger.warn({ err }, 'cannot write the observed definitions to the storage backend');
    }
  }

  const builtInNames = () =>
    new Set(
      catalogue
        .entries()
        .filter((e) => e.tool.upstream === undefined)
        .map((e) => e.tool.name),
    );

  /**
   * Whether an item of the unprefixed upstream would take a name that is not its to take: a
   * built-in tool's, or one in another upstream's namespace (`<other>__…`). Such an item is not
   * served (alerted once) rather than allowed to shadow, or be shadowed by, the other.
   */
  function collides(upstream: string, key: string, builtIns: ReadonlySet<string>): boolean {
    if (upstream !== unprefixed) return false;
    const { kind, name } = parsePinKey(key);
    if (kind === 'instructions' || kind === 'resource-template') return false;
    const taken =
      (kind === 'tool' && builtIns.has(name)) ||
      [...configs.keys()].some((other) => other !== upstream && name.startsWith(`${other}__`));
    if (taken && !collisionAlerted.has(key)) {
      collisionAlerted.add(key);
      logger.warn(
        { alert: 'upstream-name-collision', upstream, item: key },
        `${KIND_TEXT[kind]} "${name}" of ${upstream} (served unprefixed) collides with a built-in tool or another upstream's namespace; not served`,
      );
    }
    return taken;
  }

  /**
   * Publishes what one upstream serves: its approved tools into the catalogue, and its surface
   * (approved prompts and resource templates, resources, completions). Tells listeners of each
   * list whose served items changed.
   */
  function publish(upstream: string) {
    const config = configs.get(upstream)!;
    const listing = listings.get(upstream);
    const supervisor = supervisors.get(upstream)!;
    if (!listing) return;
    const items = observed[upstream]?.items ?? {};
    const upstreamLock = lock.upstreams[upstream];
    const instructions = items[INSTRUCTIONS_KEY];
    const instructionsOk =
      !instructions || pinStateOf(upstreamLock, INSTRUCTIONS_KEY, instructions.hash) === 'approved';
    const builtIns = builtInNames();
    const servable = (key: string) => {
      const item = items[key];
      return (
        item !== undefined &&
        instructionsOk &&
        pinStateOf(upstreamLock, key, item.hash) === 'approved' &&
        !collides(upstream, key, builtIns)
      );
    };
    const ns = { upstream, unprefixed: upstream === unprefixed };
    const ajv = createSchemaCompiler();
    const tools: Tool[] = [];
    const toolKeys: string[] = [];
    for (const definition of listing.tools) {
      if (!servable(definition.name)) continue;
      try {
        tools.push(
          buildUpstreamTool({
            upstream,
            unprefixed: ns.unprefixed,
            definition,
            classification: classifyTool(upstream, definition.name, config.tools, definition.annotations),
            ajv,
            maxOutputBytes: config.maxOutputBytes,
            call: (name, args, ctx) => (persons.get(upstream) ?? supervisor).call(name, args, ctx),
          }),
        );
        toolKeys.push(definition.name);
      } catch (err) {
        logger.warn(
          {
            alert: 'upstream-tool-schema-invalid',
            upstream,
            tool: definition.name,
            reason: (err as Error).message,
          },
          'tool schema does not compile; the tool is not served',
        );
      }
    }
    const prompts = listing.prompts.filter((p) => servable(promptKey(p.name)));
    const resourceTemplates = listing.resourceTemplates.filter((t) => servable(templateKey(t.uriTemplate)));
    const caps = listing.identity.capabilities;
    const surface =
      caps.prompts || caps.resources || caps.completions
        ? buildUpstreamSurface({
            ns,
            config,
            capabilities: caps,
            prompts,
            resourceTemplates,
            request: (method, params, ctx) =>
              (persons.get(upstream) ?? supervisor).request(method, params, ctx),
            subscribe: (uri) => supervisor.subscribe(uri),
            unsubscribe: (uri) => supervisor.unsubscribe(uri),
            redact: (value) => redactDefinition(value).value,
          })
        : undefined;
    const keys = {
      tools: toolKeys,
      prompts: prompts.map((p) => promptKey(p.name)),
      resources: resourceTemplates.map((t) => templateKey(t.uriTemplate)),
    };
    try {
      catalogue.setUpstreamTools(upstream, tools, ns.unprefixed ? '' : upstream);
      catalogue.setUpstreamSurface(upstream, surface);
      served.set(upstream, new Set([...keys.tools, ...keys.prompts, ...keys.resources]));
    } catch (err) {
      logger.error({ upstream, err }, 'cannot publish upstream tools');
      return;
    }
    const signature = (list: readonly string[]) =>
      list
        .map((k) => `${k}=${items[k]!.hash}`)
        .sort()
        .join('\n');
    const before = publishedLists.get(upstream);
    const current = {
      tools: signature(keys.tools),
      prompts: signature(keys.prompts),
      resources: signature(keys.resources),
    };
    publishedLists.set(upstream, current);
    for (const list of ['tools', 'prompts', 'resources'] as const) {
      if ((before?.[list] ?? '') !== current[list]) emit(upstream, { kind: 'list-changed', list });
    }
  }

  /** A listing, in store order: pinned against the store, then published. */
  const onListing = (upstream: string, raw: Listing): Promise<void> =>
    enqueue(() => pinListing(upstream, raw));

  async function pinListing(upstream: string, raw: Listing) {
    rawListings.set(upstream, raw);
    const { listing, leaks } = redactListing(raw);
    listings.set(upstream, listing);
    const config = configs.get(upstream)!;
    const items = itemsOf(upstream, listing, leaks);
    if (config.pinning === 'trust-on-first-use') await trustOnFirstUse(upstream, items);
    for (const [key, item] of Object.entries(items))
      alertOnce(upstream, key, item, pinStateOf(lock.upstreams[upstream], key, item.hash));
    for (const m of listing.malformed) {
      logger.warn(
        { alert: 'upstream-definition-malformed', upstream, tool: m.name, problem: m.problem },
        'definition malformed; not served',
      );
    }
    observed[upstream] = {
      observedAt: now().toISOString(),
      transport: config.stdio ? 'stdio' : 'http',
      target: describeTarget(config),
      server: {
        ...(listing.identity.name ? { name: listing.identity.name } : {}),
        ...(listing.identity.version ? { version: listing.identity.version } : {}),
        protocolVersion: listing.identity.protocolVersion,
      },
      items,
      malformed: listing.malformed,
    };
    await writeObserved(upstream);
    publish(upstream);
  }

  /** The hooks every supervisor of an upstream shares (its own, and each person's session). */
  const superviseDeps = (config: UpstreamConfig): Omit<SuperviseDeps, 'onListing' | 'onStateChange'> => ({
    config,
    env: options.env,
    logger,
    probe,
    hide: [options.dataDir],
    clientVersion: options.clientVersion ?? '0.1.0',
    ...(options.vault ? { vault: options.vault } : {}),
    redactText: (text) => relayRedactor.redact(text).text,
    onEvent(event) {
      // Tool and prompt list changes reach listeners through publish, once re-listing and
      // re-pinning decided what is still served; resources are live data, announced as they come.
      if (event.kind === 'resource-updated') {
        emit(config.name, {
          kind: 'resource-updated',
          uri: joinResourceUri(config.name, event.uri, config.name === unprefixed),
        });
      } else if (event.list === 'resources') emit(config.name, event);
    },
    onSecret(value) {
      if (secrets.has(value)) return;
      secrets.add(value);
      redactDefinition = createDefinitionRedactor([...(options.knownSecrets ?? []), ...secrets]);
      relayRedactor = createRedactor({ secrets: [...(options.knownSecrets ?? []), ...secrets] });
      void enqueue(async () => {
        await refresh();
        for (const [name, raw] of rawListings) await pinListing(name, raw);
      });
      for (const l of secretListeners) l(value);
    },
  });

  const supervisors = new Map<string, UpstreamSupervisor>(
    options.upstreams.map((config) => [
      config.name,
      superviseUpstream({
        ...superviseDeps(config),
        onListing: (listing) => void onListing(config.name, listing),
        onStateChange: (h) => options.metrics?.setUpstreamUp(h.name, h.state === 'up'),
      }),
    ]),
  );

  /**
   * The tools of a person session's listing that are served as approved: the same redaction,
   * hashing and lockfile as the shared listing, so a session describing a tool otherwise than
   * the approved pin cannot have it called.
   */
  function approvedTools(upstream: string, raw: Listing): ReadonlySet<string> {
    const { listing, leaks } = redactListing(raw);
    const items = itemsOf(upstream, listing, leaks);
    const pins = lock.upstreams[upstream];
    const instructions = items[INSTRUCTIONS_KEY];
    if (instructions && pinStateOf(pins, INSTRUCTIONS_KEY, instructions.hash) !== 'approved')
      return new Set();
    return new Set(
      listing.tools
        .filter((t) => items[t.name] && pinStateOf(pins, t.name, items[t.name]!.hash) === 'approved')
        .map((t) => t.name),
    );
  }

  const refuseAll: PersonCredentialSource = {
    resolve: async () => ({
      kind: 'none',
      reason: 'missing',
      message:
        'This server needs your own account connected, and connections are not available on this gateway.',
    }),
    refused: async () => {},
  };
  /** Per-person sessions of the upstreams with `auth`. */
  const persons = new Map<string, PersonSessions>(
    options.upstreams
      .filter((config) => config.auth)
      .map((config) => [
        config.name,
        createPersonSessions({
          config,
          source: options.personCredentials ?? refuseAll,
          logger,
          shared: supervisors.get(config.name)!,
          supervise: (person, onPersonListing) =>
            superviseUpstream({
              ...superviseDeps(config),
              person,
              onListing(listing) {
                onPersonListing(listing);
                // The only way such an upstream is listed; hashed, scanned and pinned as any listing.
                if (listsThroughPeople(config)) void onListing(config.name, listing);
              },
              onStateChange: () => {},
            }),
          approvedTools: (listing) => approvedTools(config.name, listing),
        }),
      ]),
  );

  const reloadPins = () => enqueue(refresh);

  /** Reads the pins again when the store's revision moved (a decision made elsewhere). */
  const poll = () =>
    enqueue(async () => {
      let current: number | undefined;
      try {
        current = await store.revision();
      } catch {
        current = undefined;
      }
      if (current === undefined || current !== revision) await refresh();
    });
  let pollTimer: NodeJS.Timeout | undefined;

  return {
    async start() {
      await enqueue(async () => {
        await importLegacyPinFiles(store, options.dataDir, logger);
        // Observations of upstreams no longer configured are dropped, as the file's were.
        for (const name of Object.keys(await store.observed()))
          if (!configs.has(name)) await store.deleteObserved(name);
      });
      await enqueue(refresh);
      const pollMs = options.lockfilePollMs ?? 1000;
      if (pollMs > 0 && supervisors.size > 0) {
        // Decisions come from another process (`portcullis pins approve`, another replica's
        // console, `pins import`); polling the revision applies them without a restart.
        pollTimer = setInterval(() => void poll(), pollMs);
        pollTimer.unref();
      }
      await Promise.all(
        [...supervisors.values()]
          .filter((s) => !listsThroughPeople(configs.get(s.name)!))
          .map((s) => s.start()),
      );
      await queue;
    },
    health: () => [...supervisors.values()].map((s) => s.health()),
    async restart(name) {
      const supervisor = supervisors.get(name);
      if (!supervisor) return false;
      await supervisor.restart();
      await queue;
      return true;
    },
    pins() {
      const out: PinnedItemStatus[] = [];
      for (const [upstream, entry] of Object.entries(observed)) {
        for (const [key, item] of Object.entries(entry.items)) {
          out.push({
            upstream,
            key,
            state: pinStateOf(lock.upstreams[upstream], key, item.hash),
            served: served.get(upstream)?.has(key) ?? false,
            scan: item.scan,
          });
        }
      }
      return out;
    },
    knownSecrets: () => [...secrets],
    onSecret: (listener) => void secretListeners.push(listener),
    onSurfaceEvent: (listener) => void surfaceListeners.push(listener),
    reloadPins,
    stopPersonSessions: async (upstream, person) => persons.get(upstream)?.stop(person),
    async listThroughPerson(upstream, person) {
      const config = configs.get(upstream);
      if (!config || !listsThroughPeople(config) || listings.has(upstream)) return;
      await persons.get(upstream)?.warm(person);
      await queue;
    },
    listsThroughPeople: () => options.upstreams.filter(listsThroughPeople).map((u) => u.name),
    async testPersonCredential(upstream, value) {
      const config = configs.get(upstream);
      const auth = config?.auth;
      if (auth?.mode !== 'person-secret' || !auth.testCall) return undefined;
      let listing: Listing | undefined;
      const header = auth.header?.toLowerCase();
      const supervisor = superviseUpstream({
        ...superviseDeps(config!),
        person: {
          label: 'key-test',
          ...(auth.env ? { env: { [auth.env]: value } } : {}),
          ...(header ? { auth: { headers: async () => ({ [header]: value }), invalidate() {} } } : {}),
        },
        onListing: (l) => (listing = l),
        onStateChange: () => {},
      });
      try {
        await supervisor.start();
        if (supervisor.health().state !== 'up' || !listing) return `${upstream} did not accept it.`;
        if (!approvedTools(upstream, listing).has(auth.testCall.tool))
          return `the test tool "${auth.testCall.tool}" of ${upstream} is not an approved definition.`;
        const result = (await supervisor.call(auth.testCall.tool, auth.testCall.arguments, {
          principal: {
            subject: 'portcullis:key-test',
            tenant: 'portcullis:key-test',
            credentialId: 'key-test',
            authMethod: 'api-key',
            scopes: new Set(),
            binding: 'key-test',
          },
          requestId: 'key-test',
          signal: AbortSignal.timeout(config!.callTimeoutSeconds * 1000),
        })) as { isError?: unknown };
        return result.isError === true ? `${upstream} refused the test call.` : undefined;
      } catch {
        return `${upstream} refused the test call.`;
      } finally {
        await supervisor.close();
      }
    },
    async close() {
      if (pollTimer) clearInterval(pollTimer);
      await Promise.all([...persons.values()].map((p) => p.close()));
      await Promise.all([...supervisors.values()].map((s) => s.close()));
    },
  };
}
