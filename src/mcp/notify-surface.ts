import type { McpHttpHandler } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { SurfaceEvent } from '../tools/index.js';
import type { Session, SessionCredential, SessionManager } from './sessions.js';

/** The shortest gap between two notifications about the same thing; more are folded into one. */
const MIN_GAP_MS = 1000;

/**
 * Tells clients what an upstream announced: a list changed (every 2025 session and every
 * 2026-07-28 `subscriptions/listen` stream that asked; a list change carries no data), or a
 * resource was updated (only the sessions and listeners that subscribed to that URI, each
 * checked readable when it subscribed). An upstream that floods is folded to one notification
 * per list or URI per second, so it cannot turn into a flood to every client.
 */
export function createSurfaceNotifier(deps: {
  readonly handler: Pick<McpHttpHandler, 'notify'>;
  readonly sessions: Pick<SessionManager, 'all' | 'drop'>;
  /**
   * Whether the credential a session was last seen with still holds (an API key not revoked). A
   * session hears nothing once it does not: notifications flow between requests, so without this
   * a revoked key would keep hearing until the session idled out.
   */
  readonly credentialValid?: (credential: SessionCredential) => Promise<boolean>;
  readonly logger: Logger;
  readonly now?: () => number;
}): { notify(event: SurfaceEvent): void; close(): void } {
  const now = deps.now ?? Date.now;

  /** Sends to one session if its credential still holds; closes the session when it does not. */
  const send = (session: Session, n: { method: string; params?: Record<string, unknown> }) => {
    const { credential } = session;
    const run = async () => {
      // An expired credential needs no lookup (OAuth tokens: the session resumes with a new token).
      const valid =
        (credential.expiresAt === undefined || credential.expiresAt > now()) &&
        (deps.credentialValid ? await deps.credentialValid(credential) : true);
      if (!valid) {
        if (credential.expiresAt === undefined || credential.expiresAt > now())
          await deps.sessions.drop(session.id, 'credential-revoked');
        return;
      }
      await session.notify(n);
    };
    run().catch(() => undefined);
  };
  const lastSent = new Map<string, number>();
  const trailing = new Map<string, NodeJS.Timeout>();

  const deliver = (event: SurfaceEvent) => {
    if (event.kind === 'list-changed') {
      const modern = {
        tools: 'toolsChanged',
        prompts: 'promptsChanged',
        resources: 'resourcesChanged',
      } as const;
      deps.handler.notify[modern[event.list]]();
      for (const s of deps.sessions.all()) send(s, { method: `notifications/${event.list}/list_changed` });
      return;
    }
    deps.handler.notify.resourceUpdated(event.uri);
    for (const s of deps.sessions.all()) {
      if (s.subscriptions.has(event.uri))
        send(s, { method: 'notifications/resources/updated', params: { uri: event.uri } });
    }
  };

  return {
    notify(event) {
      const key = event.kind === 'list-changed' ? `list:${event.list}` : `uri:${event.uri}`;
      const at = now();
      const last = lastSent.get(key);
      if (last === undefined || at - last >= MIN_GAP_MS) {
        lastSent.set(key, at);
        if (lastSent.size > 10_000) lastSent.clear();
        deliver(event);
        return;
      }
      if (trailing.has(key)) return;
      const timer = setTimeout(
        () => {
          trailing.delete(key);
          lastSent.set(key, now());
          deliver(event);
        },
        MIN_GAP_MS - (at - last),
      );
      timer.unref();
      trailing.set(key, timer);
    },
    close() {
      for (const t of trailing.values()) clearTimeout(t);
      trailing.clear();
    },
  };
}
