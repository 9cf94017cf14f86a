import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SharedState } from '../shared-state/index.js';
import { LOG_LEVELS, type LogLevel } from '../tools/index.js';

/**
 * What another replica needs to serve a 2025 stateful session it does not hold: the record of
 * its initialize and what the session set since. Never the credential — only its binding.
 */
export interface SessionRecord {
  readonly id: string;
  readonly binding: string;
  readonly protocolVersion: string;
  readonly clientCapabilities: Readonly<Record<string, unknown>>;
  readonly clientInfo: Readonly<{ name: string; version: string } & Record<string, unknown>>;
  readonly logLevel?: LogLevel | undefined;
  readonly subscriptions: readonly string[];
  readonly createdAt: number;
  readonly lastSeen: number;
}

/**
 * Redis is trusted infrastructure, but a record read back is still data: a value of the wrong
 * shape (another program's key, a partial write, an edit by hand) makes the session unknown
 * (404, the client initialises again), never a crash or a session with made-up contents.
 */
const recordSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    binding: z.string().min(1).max(1024),
    protocolVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    clientCapabilities: z.record(z.string(), z.unknown()),
    clientInfo: z.looseObject({ name: z.string().max(1024), version: z.string().max(1024) }),
    logLevel: z.enum(LOG_LEVELS).optional(),
    subscriptions: z.array(z.string().max(8192)).max(1000),
    createdAt: z.number().int().nonnegative(),
    lastSeen: z.number().int().nonnegative(),
  })
  .refine((r) => r.lastSeen >= r.createdAt);

/** Longest record accepted when read back (the initialize it holds was bounded by the body cap). */
const MAX_RECORD_BYTES = 256 * 1024;

/**
 * Session records shared by replicas (docs/storage.md, key schema):
 * - `<prefix>session:<h>` — the record as JSON, expiring after the idle TTL, refreshed on use;
 * - `<prefix>sessions:binding:<hb>` and `<prefix>sessions:all` — sorted sets of `h` by last use,
 *   for the per-credential and total caps across replicas (entries idle past the TTL are pruned
 *   before counting; `all` also holds `reserved:<random>` slots of opens in progress), each cap
 *   checked and taken in one Lua script;
 * - channel `<prefix>session-closed` — `h` of a session ended anywhere, so its holder lets go;
 * - channel `<prefix>session-answer-misrouted` — `h` of a session whose answer to a server
 *   request reached a replica that did not ask, so the asking replica cancels its questions.
 * `h` is a SHA-256 of the session id, `hb` of the binding: someone reading Redis learns neither.
 */
export interface SessionRecords {
  hashOf(id: string): string;
  /**
   * Takes one of `maxTotal` slots across replicas, atomically (a reservation counted with the
   * live sessions until `save` swaps it for the session or `release` frees it); false when they
   * are all taken, undefined when Redis failed (the caller counts what this replica holds).
   */
  reserve(maxTotal: number): Promise<string | false | undefined>;
  /** Frees a reservation whose initialize made no session. */
  release(reservation: string): Promise<void>;
  /**
   * Writes the record of a session just opened, in place of its reservation, and ends the
   * binding's least recently used sessions beyond `maxPerPrincipal`, in one atomic step (so
   * concurrent opens on several replicas cannot all pass the cap); false when Redis did not take it.
   */
  open(record: SessionRecord, reservation: string | undefined, maxPerPrincipal: number): Promise<boolean>;
  /** Rewrites the record of a live session; a session ended meanwhile stays ended. */
  save(record: SessionRecord): Promise<boolean>;
  /** Refreshes the expiry and last use of a live session (never brings an ended one back). */
  touch(record: SessionRecord): Promise<void>;
  /** The record for `id`, validated; undefined when there is none, it is malformed, or Redis failed. */
  load(id: string): Promise<SessionRecord | undefined>;
  /** Ends a session everywhere: deletes the record and tells every replica. */
  remove(hash: string, binding: string): Promise<void>;
  onClosed(listener: (hash: string) => void): void;
  /** Tells the replica holding the session that an answer for it landed elsewhere. */
  misrouted(hash: string): Promise<void>;
  onMisrouted(listener: (hash: string) => void): void;
}

/**
 * The caps' Redis scripts. Each runs atomically, so "count, compare, add" cannot interleave
 * between replicas (the read-then-write it replaced let 24 concurrent opens past a cap of 6).
 *
 * reserve — KEYS[1] all; ARGV now, cutoff, max, token: prune idle entries, refuse at the cap,
 * else add the reservation.
 */
const RESERVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
return 1`;

/**
 * open — KEYS[1] record, KEYS[2] binding set, KEYS[3] all; ARGV record JSON, ttl ms, hash,
 * last use, reservation ('' for none), cutoff, max per principal, record key prefix. Writes the
 * session, then deletes the binding's oldest sessions past the cap (never this one) and returns
 * their hashes, for the caller to announce.
 */
const OPEN = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[5] ~= '' then redis.call('ZREM', KEYS[3], ARGV[5]) end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[7])
local ended = {}
if over > 0 then
  for _, h in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    if over <= 0 then break end
    if h ~= ARGV[3] then
      redis.call('DEL', ARGV[8] .. h)
      redis.call('ZREM', KEYS[2], h)
      redis.call('ZREM', KEYS[3], h)
      table.insert(ended, h)
      over = over - 1
    end
  end
end
return ended`;

/**
 * touch — KEYS[1] record, KEYS[2] binding set, KEYS[3] all; ARGV ttl ms, hash, last use, and
 * the record JSON to write ('' to refresh only). Only while the record exists: a holder that
 * missed the message ending its session must not put it back in the caps' counts.
 */
const TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[4] ~= '' then redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[1])
else redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return 1`;

type Script = (...args: (string | number)[]) => Promise<unknown>;

const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('base64url');

export function createSessionRecords(deps: {
  shared: SharedState;
  idleTtlMs: number;
  now: () => number;
  /** Told of a record that did not validate, and of Redis failures. */
  onProblem: (what: string, err?: unknown) => void;
}): SessionRecords {
  const { shared, idleTtlMs, now, onProblem } = deps;
  const r = shared.client;
  const recordKey = (hash: string) => shared.key('session', hash);
  const bindingKey = (binding: string) => shared.key('sessions', 'binding', sha(binding));
  const allKey = shared.key('sessions', 'all');
  const listeners: ((hash: string) => void)[] = [];
  const misroutedListeners: ((hash: string) => void)[] = [];
  shared.subscribe('session-closed', {
    message: (hash) => {
      for (const l of listeners) l(hash);
    },
  });
  shared.subscribe('session-answer-misrouted', {
    message: (hash) => {
      for (const l of misroutedListeners) l(hash);
    },
  });

  const script = (name: string, numberOfKeys: number, lua: string): Script => {
    const command = `portcullis${name}`;
    if (!(command in r)) r.defineCommand(command, { numberOfKeys, lua });
    const run = (r as unknown as Record<string, Script>)[command]!;
    return (...args) => run.apply(r, args);
  };
  const reserveScript = script('SessionReserve', 1, RESERVE);
  const openScript = script('SessionOpen', 3, OPEN);
  const touchScript = script('SessionTouch', 3, TOUCH);
  const cutoff = () => String(now() - idleTtlMs);
  const keysOf = (record: SessionRecord) => {
    const hash = sha(record.id);
    return [recordKey(hash), bindingKey(record.binding), allKey, hash] as const;
  };
  const refresh = async (record: SessionRecord, full: boolean) => {
    const [rk, bk, ak, hash] = keysOf(record);
    await touchScript(rk, bk, ak, idleTtlMs, hash, record.lastSeen, full ? JSON.stringify(record) : '');
  };

  return {
    hashOf: sha,
    async reserve(maxTotal) {
      const token = `reserved:${randomBytes(16).toString('base64url')}`;
      try {
        return (await reserveScript(allKey, now(), cutoff(), maxTotal, token)) === 1 ? token : false;
      } catch (err) {
        onProblem('session slot not reserved', err);
        return undefined;
      }
    },
    async release(reservation) {
      try {
        await r.zrem(allKey, reservation);
      } catch (err) {
        onProblem('session reservation not released', err);
      }
    },
    async open(record, reservation, maxPerPrincipal) {
      const [rk, bk, ak, hash] = keysOf(record);
      let ended: unknown;
      try {
        ended = await openScript(
          rk,
          bk,
          ak,
          JSON.stringify(record),
          idleTtlMs,
          hash,
          record.lastSeen,
          reservation ?? '',
          cutoff(),
          maxPerPrincipal,
          recordKey(''),
        );
      } catch (err) {
        onProblem('session record not saved', err);
        return false;
      }
      // Their holders (this replica too: it is subscribed) let go.
      for (const h of Array.isArray(ended) ? ended : []) await shared.publish('session-closed', String(h));
      return true;
    },
    async save(record) {
      try {
        await refresh(record, true);
        return true;
      } catch (err) {
        onProblem('session record not saved', err);
        return false;
      }
    },
    async touch(record) {
      try {
        await refresh(record, false);
      } catch (err) {
        onProblem('session record not refreshed', err);
      }
    },
    async load(id) {
      let raw: string | null;
      try {
        raw = await r.get(recordKey(sha(id)));
      } catch (err) {
        onProblem('session record not read', err);
        return undefined;
      }
      if (raw === null) return undefined;
      if (raw.length > MAX_RECORD_BYTES) {
        onProblem('session record too large');
        return undefined;
      }
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        onProblem('session record is not JSON');
        return undefined;
      }
      const parsed = recordSchema.safeParse(value);
      // A record stored under another session's key is that other session's, not this one.
      if (!parsed.success || parsed.data.id !== id) {
        onProblem('session record malformed');
        return undefined;
      }
      if (parsed.data.lastSeen < now() - idleTtlMs) return undefined;
      return parsed.data;
    },
    async remove(hash, binding) {
      try {
        await r.multi().del(recordKey(hash)).zrem(bindingKey(binding), hash).zrem(allKey, hash).exec();
      } catch (err) {
        onProblem('session record not deleted', err);
      }
      await shared.publish('session-closed', hash);
    },
    onClosed(listener) {
      listeners.push(listener);
    },
    async misrouted(hash) {
      await shared.publish('session-answer-misrouted', hash);
    },
    onMisrouted(listener) {
      misroutedListeners.push(listener);
    },
  };
}
