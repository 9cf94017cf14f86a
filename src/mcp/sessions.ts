import { randomBytes } from 'node:crypto';
import {
  WebStandardStreamableHTTPServerTransport,
  type McpServerFactory,
} from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { Principal } from '../auth/index.js';
import type { LogLevel } from '../tools/index.js';
import type { SessionRecord, SessionRecords } from './session-records.js';

/**
 * Stateful sessions for 2025-era clients that need server-to-client requests (elicitation).
 * A session id is 256 random bits and is bound to the credential that opened it: presenting it
 * with any other credential finds nothing. The session is never proof of identity; every request
 * on it is authenticated afresh before it gets here.
 */
/**
 * The credential a session was last authenticated with (never the credential itself). Updated on
 * every request of the session, so notifications sent between requests can be checked against it.
 */
export interface SessionCredential {
  readonly authMethod: Principal['authMethod'];
  readonly credentialId: string;
  /** Epoch ms after which the credential no longer holds; undefined when it does not expire. */
  readonly expiresAt: number | undefined;
}

export interface Session {
  readonly id: string;
  readonly binding: string;
  credential: SessionCredential;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  lastSeen: number;
  /** The least severe upstream log level relayed on this session (`logging/setLevel`). */
  logLevel?: LogLevel;
  /** Resource URIs this session subscribed to (each checked readable when subscribed). */
  readonly subscriptions: Set<string>;
  /** Sends a notification on the session's own stream. */
  readonly notify: (notification: { method: string; params?: Record<string, unknown> }) => Promise<void>;
  /** What the client declared at initialize (what a 2026-07-28 upstream may be told it can answer). */
  readonly clientCapabilities: () => Readonly<Record<string, unknown>>;
  /** Call after `logLevel` or `subscriptions` changed, so the shared record (other replicas) has it. */
  changed(): void;
  /** Server-to-client requests this replica is waiting on for the session (`askOn`). */
  readonly asking: Set<AbortController>;
}

/**
 * Runs one server-to-client request of a session (an elicitation, an upstream's question), so
 * that it can be cancelled when its answer is reported to have reached another replica.
 */
export async function askOn<T>(
  session: Session | undefined,
  ask: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (!session) return ask(undefined);
  const controller = new AbortController();
  session.asking.add(controller);
  try {
    return await ask(controller.signal);
  } finally {
    session.asking.delete(controller);
  }
}

/** What a 2025 client sent in its initialize: all a replica needs to rebuild the session. */
export interface InitializeParams {
  readonly protocolVersion: string;
  readonly capabilities: Readonly<Record<string, unknown>>;
  readonly clientInfo: Readonly<{ name: string; version: string } & Record<string, unknown>>;
}

export interface SessionLimits {
  readonly idleTtlMs: number;
  readonly maxPerPrincipal: number;
  readonly maxTotal: number;
}

export type OpenSessionResult =
  | {
      readonly ok: true;
      readonly transport: WebStandardStreamableHTTPServerTransport;
      /** Call after the initialize exchange: frees the reserved slot if no session came of it. */
      readonly settle: () => Promise<void>;
    }
  | { readonly ok: false; readonly reason: 'sessions-exhausted' };

export interface SessionManager {
  /** The session with this id if it is held here and the same credential opened it. */
  find(id: string, principal: Principal): Session | undefined;
  /**
   * `find`, or else the shared record (another replica opened it): checked against the
   * credential exactly like `find`, then rebuilt here in the initialised state.
   */
  load(id: string, principal: Principal): Promise<Session | undefined>;
  /** A new, not yet initialised session transport; the SDK assigns its id during initialize. */
  open(principal: Principal, init: InitializeParams): Promise<OpenSessionResult>;
  /** Every session held here (for notifications that are not about one request). */
  all(): Iterable<Session>;
  /** Ends one session everywhere (its credential was revoked). */
  drop(id: string, why: string): Promise<void>;
  /** Whether sessions are shared by replicas (records in Redis). */
  readonly shared: boolean;
  /**
   * An answer for the session reached this replica, which asked nothing: the replica that asked
   * is told to cancel its questions (the asking call ends now, declined, instead of at its timeout).
   */
  misrouted(id: string): Promise<void>;
  readonly size: number;
  /** Lets go of the sessions held here; their records stay, so another replica can take them. */
  close(): Promise<void>;
}

const credentialOf = (p: Principal): SessionCredential => ({
  authMethod: p.authMethod,
  credentialId: p.credentialId,
  expiresAt: p.expiresAt?.getTime(),
});

/** Where the replayed initialize of a rebuilt session is addressed; it never leaves the process. */
const RESTORE_URL = 'http://session-restore.invalid/mcp';
const RESTORE_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

interface Held {
  readonly session: Session;
  readonly hash: string | undefined;
  readonly init: InitializeParams;
  readonly createdAt: number;
  savedAt: number;
}

export function createSessionManager(deps: {
  factory: McpServerFactory;
  limits: SessionLimits;
  logger: Logger;
  now: () => number;
  /** Session records shared by replicas (Redis); without them sessions live on this replica only. */
  records?: SessionRecords | undefined;
}): SessionManager {
  const { limits, logger, now, records } = deps;
  const held = new Map<string, Held>();
  const byHash = new Map<string, string>();
  const restoring = new Map<string, Promise<Session | undefined>>();
  let pending = 0;
  // The shared record is refreshed at most this often on use (its TTL is the idle TTL).
  const refreshMs = Math.min(limits.idleTtlMs / 4, 30_000);

  const recordOf = (h: Held): SessionRecord => ({
    id: h.session.id,
    binding: h.session.binding,
    protocolVersion: h.init.protocolVersion,
    clientCapabilities: h.init.capabilities,
    clientInfo: h.init.clientInfo,
    ...(h.session.logLevel ? { logLevel: h.session.logLevel } : {}),
    subscriptions: [...h.session.subscriptions],
    createdAt: h.createdAt,
    lastSeen: h.session.lastSeen,
  });

  const forget = (id: string, why: string): Held | undefined => {
    const h = held.get(id);
    if (!h) return undefined;
    held.delete(id);
    if (h.hash) byHash.delete(h.hash);
    logger.info({ sessionId: id, why }, 'session closed');
    return h;
  };
  /** Lets go of a session held here; its record (if any) is left alone. */
  const evict = async (id: string, why: string) => {
    await forget(id, why)
      ?.session.transport.close()
      .catch(() => undefined);
  };
  /** Ends a session everywhere: here, its record, and on the replica that holds it. */
  const end = async (id: string, binding: string, why: string) => {
    await evict(id, why);
    if (records) await records.remove(records.hashOf(id), binding);
  };
  records?.onClosed((hash) => {
    const id = byHash.get(hash);
    if (id) void evict(id, 'closed-elsewhere');
  });
  records?.onMisrouted((hash) => {
    const id = byHash.get(hash);
    const h = id ? held.get(id) : undefined;
    if (!h || h.session.asking.size === 0) return;
    logger.warn(
      { sessionId: id },
      'an answer for this session reached another replica; its questions are cancelled',
    );
    for (const c of h.session.asking) c.abort(new Error('the answer reached another replica'));
  });

  const sweep = () => {
    // Idle here only: the client may have moved to another replica, whose use keeps the record.
    const cutoff = now() - limits.idleTtlMs;
    for (const h of held.values()) if (h.session.lastSeen < cutoff) void evict(h.session.id, 'idle');
  };
  const timer = setInterval(sweep, Math.min(limits.idleTtlMs, 60_000));
  timer.unref();

  /** A session transport and SDK server; `onInitialized` runs once the SDK assigned the id. */
  const build = async (
    principal: Principal,
    init: InitializeParams,
    idOf: () => string,
    onInitialized: (id: string) => Promise<void> | void,
    createdAt: number,
  ) => {
    const server = await deps.factory({ era: 'legacy' });
    const sdk = 'server' in server ? server.server : server;
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: idOf,
      enableJsonResponse: false,
      onsessioninitialized: async (id) => {
        const hash = records?.hashOf(id);
        const h: Held = {
          session: {
            id,
            binding: principal.binding,
            credential: credentialOf(principal),
            transport,
            lastSeen: now(),
            subscriptions: new Set(),
            asking: new Set(),
            notify: (n) => sdk.notification(n),
            clientCapabilities: () => sdk.getClientCapabilities() ?? init.capabilities,
            changed: () => {
              if (!records || held.get(id) !== h) return;
              h.savedAt = now();
              void records.save(recordOf(h));
            },
          },
          hash,
          init,
          createdAt,
          savedAt: now(),
        };
        held.set(id, h);
        if (hash) byHash.set(hash, id);
        await onInitialized(id);
      },
      // DELETE from the client, on whichever replica it lands: the session ends everywhere.
      onsessionclosed: async (id) => {
        const h = forget(id, 'deleted');
        if (h && records) await records.remove(records.hashOf(id), h.session.binding);
      },
    });
    await server.connect(transport);
    return transport;
  };

  /** Rebuilds a session another replica opened, by replaying its initialize inside this process. */
  const restore = async (record: SessionRecord, principal: Principal): Promise<Session | undefined> => {
    const init: InitializeParams = {
      protocolVersion: record.protocolVersion,
      capabilities: record.clientCapabilities,
      clientInfo: record.clientInfo,
    };
    const transport = await build(
      principal,
      init,
      () => record.id,
      () => undefined,
      record.createdAt,
    );
    try {
      const initialize = await transport.handleRequest(
        new Request(RESTORE_URL, { method: 'POST', headers: RESTORE_HEADERS }),
        { parsedBody: { jsonrpc: '2.0', id: 0, method: 'initialize', params: init } },
      );
      // The answer goes nowhere: the client had it from the replica that opened the session.
      await initialize.text();
      const h = held.get(record.id);
      if (initialize.status !== 200 || !h) throw new Error(`replayed initialize: ${initialize.status}`);
      const initialized = await transport.handleRequest(
        new Request(RESTORE_URL, {
          method: 'POST',
          headers: {
            ...RESTORE_HEADERS,
            'mcp-session-id': record.id,
            'mcp-protocol-version': record.protocolVersion,
          },
        }),
        { parsedBody: { jsonrpc: '2.0', method: 'notifications/initialized' } },
      );
      await initialized.text();
      if (record.logLevel) h.session.logLevel = record.logLevel;
      for (const uri of record.subscriptions) h.session.subscriptions.add(uri);
      logger.info({ sessionId: record.id }, 'session taken over from its record');
      return h.session;
    } catch (err) {
      logger.warn({ err, sessionId: record.id }, 'session record could not be rebuilt');
      await evict(record.id, 'restore-failed');
      await transport.close().catch(() => undefined);
      return undefined;
    }
  };

  const find = (id: string, principal: Principal): Session | undefined => {
    const h = held.get(id);
    if (!h || h.session.binding !== principal.binding) return undefined;
    const s = h.session;
    if (s.lastSeen < now() - limits.idleTtlMs) {
      void evict(id, 'idle');
      return undefined;
    }
    s.lastSeen = now();
    s.credential = credentialOf(principal);
    if (records && now() - h.savedAt >= refreshMs) {
      h.savedAt = now();
      void records.touch(recordOf(h));
    }
    return s;
  };

  return {
    get size() {
      return held.size;
    },

    find,

    async load(id, principal) {
      const local = find(id, principal);
      if (local || !records || held.has(id)) return local;
      const record = await records.load(id);
      // The binding is checked exactly as for a session held here: another credential's id is
      // unknown to it (404), wherever the session was opened.
      if (!record || record.binding !== principal.binding) return undefined;
      let restored = restoring.get(id);
      if (!restored) {
        restored = restore(record, principal).finally(() => restoring.delete(id));
        restoring.set(id, restored);
      }
      const session = await restored;
      return session && find(id, principal);
    },

    async open(principal, init) {
      sweep();
      const mine = [...held.values()]
        .filter((h) => h.session.binding === principal.binding)
        .sort((a, b) => a.session.lastSeen - b.session.lastSeen);
      // Over the per-credential cap, the least recently used session of that credential goes:
      // one client reconnecting in a loop must not lock itself out, nor crowd out others.
      for (const h of mine.slice(0, Math.max(0, mine.length - limits.maxPerPrincipal + 1))) {
        await end(h.session.id, h.session.binding, 'per-principal-cap');
      }
      // Across replicas the total cap is one atomic reservation in Redis (counting another
      // replica's sessions, then adding one's own, let concurrent opens all pass); the
      // per-credential cap is applied when the session's record is written. Each replica also
      // holds at most maxTotal itself, and without Redis that is the cap.
      if (held.size + pending >= limits.maxTotal) return { ok: false, reason: 'sessions-exhausted' };
      const reservation = await records?.reserve(limits.maxTotal);
      if (reservation === false) return { ok: false, reason: 'sessions-exhausted' };

      pending++;
      let reserved = true;
      const release = () => {
        if (reserved) pending--;
        reserved = false;
      };
      const transport = await build(
        principal,
        init,
        () => randomBytes(32).toString('base64url'),
        async (id) => {
          release();
          const h = held.get(id);
          // Saved before the client learns the id, so its next request may land on any replica;
          // the credential's oldest sessions past the cap end everywhere in the same step.
          if (h && records) await records.open(recordOf(h), reservation, limits.maxPerPrincipal);
        },
        now(),
      ).catch(async (err: unknown) => {
        release();
        if (reservation) await records?.release(reservation);
        throw err;
      });
      const settle = async () => {
        if (transport.sessionId !== undefined && held.has(transport.sessionId)) return;
        // initialize failed (bad params, unsupported version): no session, free the slot.
        release();
        if (reservation) await records?.release(reservation);
        await transport.close().catch(() => undefined);
      };
      return { ok: true, transport, settle };
    },

    all: () => [...held.values()].map((h) => h.session),
    shared: records !== undefined,
    misrouted: async (id) => {
      await records?.misrouted(records.hashOf(id));
    },
    drop: async (id, why) => {
      const h = held.get(id);
      if (h) await end(id, h.session.binding, why);
    },

    async close() {
      clearInterval(timer);
      await Promise.all([...held.keys()].map((id) => evict(id, 'shutdown')));
    },
  };
}
