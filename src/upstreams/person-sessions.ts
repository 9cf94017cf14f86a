import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ToolInputError, type ToolContext } from '../tools/index.js';
import type { UpstreamConfig } from './config.js';
import type { HttpAuth } from './http-channel.js';
import type { PersonCredentialSource } from './person-credentials.js';
import type { Listing, SuperviseDeps, UpstreamSupervisor } from './supervise-upstream.js';

/**
 * One upstream's sessions, one per person, for an upstream with `auth` (DESIGN.md, "People's own
 * credentials"). Every call is routed by the caller's tenant + subject — from the credential,
 * never an argument — to that person's own session, which carries only that person's credential:
 * - stdio: a sandboxed process of its own, the secret only in its environment; restarted when
 *   the credential changes (reconnect);
 * - http: a channel of its own whose every request asks the connection for the current header
 *   (refreshed server-side before expiry); a 401 tells the connection so.
 * Sessions start on the first call, stop after `sessions.idleSeconds`, and at most
 * `sessions.maxPerUpstream` are open (the longest idle is stopped for a new one). A session's
 * listing is checked against the approved pins: a tool it describes otherwise is not called.
 */
export interface PersonSessions {
  call(toolName: string, args: unknown, ctx: ToolContext): Promise<unknown>;
  request(method: string, params: Record<string, unknown>, ctx: ToolContext): Promise<unknown>;
  /**
   * Opens a person's session without a call (after they connect, or at start), so its listing
   * can serve the upstream when nothing else can list it. Never rejects.
   */
  warm(person: { tenant: string; subject: string }): Promise<void>;
  /** Stops every session of one person (a disconnection), or all of them. */
  stop(person?: { tenant: string; subject: string }): Promise<void>;
  /** Open sessions, for health and tests. */
  size(): number;
  close(): Promise<void>;
}

interface Session {
  readonly supervisor: UpstreamSupervisor;
  readonly connectionId: string;
  /** stdio: a hash of the credential the process was started with. */
  readonly version: string;
  readonly started: Promise<void>;
  /** What this session's server listed last (checked against the pins at each call). */
  listing: Listing | undefined;
  lastUsed: number;
}

export interface PersonSessionsDeps {
  readonly config: UpstreamConfig;
  readonly source: PersonCredentialSource;
  readonly logger: Logger;
  /** The upstream's shared supervisor, for `fallback: shared`. */
  readonly shared: UpstreamSupervisor;
  /** Builds a supervisor for one person's session (superviseUpstream with the manager's hooks). */
  readonly supervise: (
    person: NonNullable<SuperviseDeps['person']>,
    onListing: (listing: Listing) => void,
  ) => UpstreamSupervisor;
  /** The tool names of a listing whose definitions are approved in the lockfile. */
  readonly approvedTools: (listing: Listing) => ReadonlySet<string>;
  readonly now?: () => number;
}

const personKey = (p: { tenant: string; subject: string }) => JSON.stringify([p.tenant, p.subject]);
const versionOf = (value: string) => createHash('sha256').update(value).digest('hex');

export function createPersonSessions(deps: PersonSessionsDeps): PersonSessions {
  const { config, source } = deps;
  const auth = config.auth!;
  const now = deps.now ?? Date.now;
  const sessions = new Map<string, Session>();
  const idleMs = config.sessions.idleSeconds * 1000;
  const sweeper = setInterval(() => void sweep(), Math.min(idleMs, 60_000));
  sweeper.unref();

  async function sweep() {
    const cutoff = now() - idleMs;
    for (const [key, s] of sessions) {
      if (s.lastUsed <= cutoff) await stopKey(key, 'idle');
    }
  }

  async function stopKey(key: string, why: string) {
    const s = sessions.get(key);
    if (!s) return;
    sessions.delete(key);
    deps.logger.info({ upstream: config.name, connection: s.connectionId, why }, 'person session stopped');
    await s.supervisor.close();
  }

  /** Room for one more session: the longest idle one is stopped. */
  async function makeRoom() {
    while (sessions.size >= config.sessions.maxPerUpstream) {
      const [key] = [...sessions.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0]!;
      await stopKey(key, 'cap');
    }
  }

  function open(key: string, ctx: ToolContext, connectionId: string, value: string): Session {
    const principal = ctx.principal;
    /** The session being built (the listing callback runs only after start() has awaited). */
    const box: { session?: Session } = {};
    const httpAuth: HttpAuth = {
      // Asked on every request: the connection refreshes before expiry, and a disconnection or
      // reconnection is seen on the very next request of this session.
      async headers(signal) {
        const cred = await source.resolve(config.name, principal, signal);
        if (cred.kind !== 'person' || cred.connectionId !== connectionId) {
          void stopKey(key, 'connection changed');
          throw new ToolInputError(
            cred.kind === 'none' ? cred.message : 'Your connection changed; try again.',
          );
        }
        const header = auth.mode === 'person-secret' ? auth.header!.toLowerCase() : 'authorization';
        return { [header]: cred.value };
      },
      invalidate() {
        void source.refused(config.name, connectionId, 'the upstream answered 401');
      },
    };
    const env = auth.mode === 'person-secret' && auth.env ? { [auth.env]: value } : undefined;
    const supervisor = deps.supervise(
      { label: connectionId, ...(config.stdio ? { env: env ?? {} } : { auth: httpAuth }) },
      (listing) => {
        if (box.session) box.session.listing = listing;
      },
    );
    const session: Session = {
      supervisor,
      connectionId,
      version: config.stdio ? versionOf(value) : connectionId,
      started: supervisor.start(),
      listing: undefined,
      lastUsed: now(),
    };
    box.session = session;
    sessions.set(key, session);
    deps.logger.info({ upstream: config.name, connection: connectionId }, 'person session started');
    return session;
  }

  /** The caller's own session, or the shared supervisor under `fallback: shared`; never another person's. */
  async function sessionFor(
    ctx: ToolContext,
  ): Promise<{ supervisor: UpstreamSupervisor; session?: Session }> {
    const cred = await source.resolve(config.name, ctx.principal, ctx.signal);
    if (cred.kind === 'shared') return { supervisor: deps.shared };
    if (cred.kind === 'none') throw new ToolInputError(cred.message);
    const key = personKey(ctx.principal);
    let session = sessions.get(key);
    const version = config.stdio ? versionOf(cred.value) : cred.connectionId;
    if (session && (session.version !== version || session.connectionId !== cred.connectionId)) {
      await stopKey(key, 'credential changed');
      session = undefined;
    }
    if (!session) {
      await makeRoom();
      session = open(key, ctx, cred.connectionId, cred.value);
    }
    session.lastUsed = now();
    await session.started;
    // Which upstream identity this call uses, by connection id (never the credential), under
    // the call's request id: the audit record of the call carries the same id.
    deps.logger.info(
      {
        requestId: ctx.requestId,
        upstream: config.name,
        connection: cred.connectionId,
        upstreamSubject: cred.upstreamSubject,
      },
      'upstream call with the person’s own connection',
    );
    ctx.onUpstreamIdentity?.({ connectionId: cred.connectionId, upstreamSubject: cred.upstreamSubject });
    return { supervisor: session.supervisor, session };
  }

  return {
    async call(toolName, args, ctx) {
      const { supervisor, session } = await sessionFor(ctx);
      // Pinning holds per session: what this person's session describes must be the approved definition.
      if (session && !(session.listing && deps.approvedTools(session.listing).has(toolName))) {
        deps.logger.warn(
          {
            alert: 'upstream-person-definition-blocked',
            upstream: config.name,
            connection: session.connectionId,
            tool: toolName,
          },
          'a person session lists a tool definition other than the approved one; call refused',
        );
        throw new ToolInputError(
          `The tool "${toolName}" of "${config.name}" is described differently for your account than the approved definition; it is blocked until an operator reviews it.`,
        );
      }
      return supervisor.call(toolName, args, ctx);
    },
    async request(method, params, ctx) {
      const { supervisor } = await sessionFor(ctx);
      return supervisor.request(method, params, ctx);
    },
    async warm(person) {
      const principal = {
        subject: person.subject,
        tenant: person.tenant,
        credentialId: 'connection-warm-up',
        authMethod: 'oauth' as const,
        scopes: new Set<string>(),
        binding: 'connection-warm-up',
      };
      try {
        await sessionFor({ principal, requestId: 'connection-warm-up', signal: AbortSignal.timeout(60_000) });
      } catch (err) {
        deps.logger.info(
          { upstream: config.name, err },
          'a person session could not be opened ahead of a call',
        );
      }
    },
    async stop(person) {
      if (!person) {
        for (const key of [...sessions.keys()]) await stopKey(key, 'stopped');
        return;
      }
      await stopKey(personKey(person), 'disconnected');
    },
    size: () => sessions.size,
    async close() {
      clearInterval(sweeper);
      for (const key of [...sessions.keys()]) await stopKey(key, 'shutdown');
    },
  };
}
