import type { AccountSession, UserRecord, UserStore } from './contracts.js';

/** In-process user store for tests and `storage.driver: memory`; passes the contract suite. */
export function openMemoryUserStore(): UserStore {
  const users = new Map<string, UserRecord>();
  const sessions = new Map<string, AccountSession>();
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
  };
}
