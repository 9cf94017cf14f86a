import { randomBytes } from 'node:crypto';
import {
  WebStandardStreamableHTTPServerTransport,
  type McpServerFactory,
} from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { Principal } from '../auth/index.js';
import type { LogLevel } from '../tools/index.js';

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
  /** The session with this id if the same credential opened it; undefined otherwise. */
  find(id: string, principal: Principal): Session | undefined;
  /** A new, not yet initialised session transport; the SDK assigns its id during initialize. */
  open(principal: Principal): Promise<OpenSessionResult>;
  /** Every open session (for notifications that are not about one request). */
  all(): Iterable<Session>;
  /** Closes one session (its credential was revoked). */
  drop(id: string, why: string): Promise<void>;
  readonly size: number;
  close(): Promise<void>;
}

const credentialOf = (p: Principal): SessionCredential => ({
  authMethod: p.authMethod,
  credentialId: p.credentialId,
  expiresAt: p.expiresAt?.getTime(),
});

export function createSessionManager(deps: {
  factory: McpServerFactory;
  limits: SessionLimits;
  logger: Logger;
  now: () => number;
}): SessionManager {
  const { limits, logger, now } = deps;
  const sessions = new Map<string, Session>();
  let pending = 0;

  const drop = async (id: string, why: string) => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    logger.info({ sessionId: id, why }, 'session closed');
    await s.transport.close().catch(() => undefined);
  };

  const sweep = () => {
    const cutoff = now() - limits.idleTtlMs;
    for (const s of sessions.values()) if (s.lastSeen < cutoff) void drop(s.id, 'idle');
  };
  const timer = setInterval(sweep, Math.min(limits.idleTtlMs, 60_000));
  timer.unref();

  return {
    get size() {
      return sessions.size;
    },

    find(id, principal) {
      const s = sessions.get(id);
      if (!s || s.binding !== principal.binding) return undefined;
      if (s.lastSeen < now() - limits.idleTtlMs) {
        void drop(id, 'idle');
        return undefined;
      }
      s.lastSeen = now();
      s.credential = credentialOf(principal);
      return s;
    },

    async open(principal) {
      sweep();
      const mine = [...sessions.values()]
        .filter((s) => s.binding === principal.binding)
        .sort((a, b) => a.lastSeen - b.lastSeen);
      // Over the per-credential cap, the least recently used session of that credential goes:
      // one client reconnecting in a loop must not lock itself out, nor crowd out others.
      for (const s of mine.slice(0, Math.max(0, mine.length - limits.maxPerPrincipal + 1))) {
        await drop(s.id, 'per-principal-cap');
      }
      if (sessions.size + pending >= limits.maxTotal) return { ok: false, reason: 'sessions-exhausted' };

      pending++;
      let reserved = true;
      const release = () => {
        if (reserved) pending--;
        reserved = false;
      };
      const server = await deps.factory({ era: 'legacy' });
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomBytes(32).toString('base64url'),
        enableJsonResponse: false,
        onsessioninitialized: (id) => {
          release();
          sessions.set(id, {
            id,
            binding: principal.binding,
            credential: credentialOf(principal),
            transport,
            lastSeen: now(),
            subscriptions: new Set(),
            notify: (n) => ('server' in server ? server.server : server).notification(n),
            clientCapabilities: () =>
              ('server' in server ? server.server : server).getClientCapabilities() ?? {},
          });
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
        },
      });
      await server.connect(transport);
      const settle = async () => {
        if (transport.sessionId !== undefined && sessions.has(transport.sessionId)) return;
        // initialize failed (bad params, unsupported version): no session, free the slot.
        release();
        await transport.close().catch(() => undefined);
      };
      return { ok: true, transport, settle };
    },

    all: () => sessions.values(),
    drop,

    async close() {
      clearInterval(timer);
      await Promise.all([...sessions.keys()].map((id) => drop(id, 'shutdown')));
    },
  };
}
