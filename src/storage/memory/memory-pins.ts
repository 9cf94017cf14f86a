import type { PinChange, PinStore, UpstreamPins } from '../contracts.js';
import { definitionText } from '../pin-rows.js';

/**
 * Pins in process memory. Values are kept as JSON text and parsed on every read, as the
 * database backends do, so a caller mutating what it read never changes the store.
 */
export function openMemoryPins(): PinStore {
  let revision = 0;
  let pins: Record<string, UpstreamPins> = {};
  const observed = new Map<string, string>();
  const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

  /** One change against `pins`; true if it changed anything. */
  const applyOne = (c: PinChange): boolean => {
    const u = (pins[c.upstream] ??= { approved: {}, rejected: {} });
    switch (c.op) {
      case 'approve': {
        u.approved[c.key] = {
          hash: c.hash,
          approvedAt: c.at.toISOString(),
          definition: JSON.parse(definitionText(c.definition)) as unknown,
        };
        const left = (u.rejected[c.key] ?? []).filter((r) => r.hash !== c.hash);
        if (left.length > 0) u.rejected[c.key] = left;
        else delete u.rejected[c.key];
        return true;
      }
      case 'reject': {
        const list = u.rejected[c.key] ?? [];
        if (list.some((r) => r.hash === c.hash)) return false;
        u.rejected[c.key] = [...list, { hash: c.hash, rejectedAt: c.at.toISOString() }];
        return true;
      }
      case 'withdraw': {
        if (u.approved[c.key]?.hash !== c.hash) return false;
        delete u.approved[c.key];
        return true;
      }
    }
  };
  const dropEmpty = () => {
    for (const [name, u] of Object.entries(pins)) {
      if (Object.keys(u.approved).length === 0 && Object.keys(u.rejected).length === 0) delete pins[name];
    }
  };

  return {
    revision: async () => revision,
    read: async () => ({ revision, upstreams: copy(pins) }),
    apply: async (changes) => {
      // All or nothing, as a transaction: work on a copy, keep it only when every change applied.
      const before = pins;
      pins = copy(pins);
      let changed = false;
      try {
        for (const c of changes) changed = applyOne(c) || changed;
      } catch (err) {
        pins = before;
        throw err;
      }
      dropEmpty();
      if (changed) revision++;
      return revision;
    },
    replace: async (upstreams) => {
      // What the SQL backends refuse, this refuses too (before changing anything).
      for (const u of Object.values(upstreams))
        for (const pin of Object.values(u.approved)) definitionText(pin.definition);
      pins = copy(upstreams);
      dropEmpty();
      return ++revision;
    },
    observed: async () =>
      Object.fromEntries([...observed].map(([name, text]) => [name, JSON.parse(text) as unknown])),
    putObserved: async (upstream, snapshot) => void observed.set(upstream, JSON.stringify(snapshot)),
    deleteObserved: async (upstream) => void observed.delete(upstream),
  };
}
