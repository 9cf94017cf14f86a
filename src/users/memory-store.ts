import type { AccountSession, SetupLink, UserRecord, UserStore } from './contracts.js';

/** In-process user store for tests and `storage.driver: memory`; passes the contract suite. */
export function openMemoryUserStore(): UserStore {
  const users = new Map<string, UserRecord>();
  const sessions = new Map<string, AccountSession>();
  const links = new Map<string, SetupLink & { used: boolean }>();
  const live = (hash: string, now: Date) => {
    const l = links.get(hash);
    return l && !l.used && l.expiresAt.getTime() > now.getTime() ? l : undefined;
  };
  return {
    insert: async (u) => {
      if (users.has(u.name)) throw new Error(`user ${u.name} exists`);
      users.set(u.name, { ...u });
    },
    find: async (name) => users.get(name),
    list: async () => [...users.values()].sort((a, b) => a.name.localeCompare(b.name)),
    disable: async (name, at) => {
      const u = users.get(name);
      if (!u) return false;
      if (!u.disabledAt) users.set(name, { ...u, disabledAt: at });
      return true;
    },
    setRole: async (name, role) => {
      const u = users.get(name);
      if (!u) return false;
      users.set(name, { ...u, role });
      return true;
    },
    recordLogin: async (name, at) => {
      const u = users.get(name);
      if (u) users.set(name, { ...u, lastLoginAt: at });
    },
    createSession: async (s) => {
      sessions.set(s.idHash, { ...s });
    },
    findSession: async (idHash, now) => {
      const s = sessions.get(idHash);
      return s && s.expiresAt.getTime() > now.getTime() ? s : undefined;
    },
    deleteSession: async (idHash) => {
      sessions.delete(idHash);
    },
    deleteSessionsOf: async (userName) => {
      for (const [k, s] of sessions) if (s.userName === userName) sessions.delete(k);
    },
    delete: async (name) => {
      if (!users.delete(name)) return false;
      for (const [k, s] of sessions) if (s.userName === name) sessions.delete(k);
      for (const [k, l] of links) if (l.userName === name) links.delete(k);
      return true;
    },
    setPassword: async (name, passwordHash) => {
      const u = users.get(name);
      if (!u) return false;
      users.set(name, { ...u, passwordHash });
      return true;
    },
    createSetupLink: async (link) => {
      for (const [k, l] of links) if (l.userName === link.userName) links.delete(k);
      links.set(link.tokenHash, { ...link, used: false });
    },
    findSetupLink: async (hash, now) => {
      const l = live(hash, now);
      return (
        l && { tokenHash: l.tokenHash, userName: l.userName, createdAt: l.createdAt, expiresAt: l.expiresAt }
      );
    },
    useSetupLink: async (hash, now) => {
      const l = live(hash, now);
      if (!l) return undefined;
      l.used = true;
      return l.userName;
    },
  };
}
