import { createHash, randomBytes } from 'node:crypto';
import { clearCookie, cookieName, readCookie, serializeCookie, type CookiePolicy } from '../ui/index.js';
import type { UserRecord, UserStore } from '../users/index.js';

const SESSION_SECONDS = 8 * 3600;
const hash = (id: string) => createHash('sha256').update(id).digest('hex');

/**
 * A person's signed-in state on the pages (connected apps, approvals): a random id in an
 * HttpOnly cookie, stored only as a hash. Separate from oidc-provider's session, which is the
 * authorization server's to manage; a sign-in through the OAuth flow starts both.
 */
export function createSessions(deps: { users: UserStore; policy: CookiePolicy; now: () => Date }) {
  const name = cookieName('pcs_account', deps.policy);
  return {
    async start(user: UserRecord): Promise<string> {
      const id = randomBytes(32).toString('base64url');
      const now = deps.now();
      await deps.users.createSession({
        idHash: hash(id),
        userName: user.name,
        createdAt: now,
        expiresAt: new Date(now.getTime() + SESSION_SECONDS * 1000),
      });
      return serializeCookie(name, id, deps.policy, { maxAgeSeconds: SESSION_SECONDS });
    },
    /** The signed-in, still-active user, or undefined. */
    async current(cookieHeader: string | undefined): Promise<UserRecord | undefined> {
      const id = readCookie(cookieHeader, name);
      if (!id) return undefined;
      const session = await deps.users.findSession(hash(id), deps.now());
      if (!session) return undefined;
      const user = await deps.users.find(session.userName);
      return user && !user.disabledAt ? user : undefined;
    },
    async end(cookieHeader: string | undefined): Promise<string> {
      const id = readCookie(cookieHeader, name);
      if (id) await deps.users.deleteSession(hash(id));
      return clearCookie(name, deps.policy);
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
