import { createHash } from 'node:crypto';
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
 *   before counting);
 * - channel `<prefix>session-closed` — `h` of a session ended anywhere, so its holder lets go;
 * - channel `<prefix>session-answer-misrouted` — `h` of a session whose answer to a server
 *   request reached a replica that did not ask, so the asking replica cancels its questions.
 * `h` is a SHA-256 of the session id, `hb` of the binding: someone reading Redis learns neither.
 */
export interface SessionRecords {
  hashOf(id: string): string;
  /** Writes or refreshes the record; false when Redis did not take it. */
  save(record: SessionRecord): Promise<boolean>;
  /** Refreshes the expiry and last use. */
  touch(record: SessionRecord): Promise<void>;
  /** The record for `id`, validated; undefined when there is none, it is malformed, or Redis failed. */
  load(id: string): Promise<SessionRecord | undefined>;
  /** Ends a session everywhere: deletes the record and tells every replica. */
  remove(hash: string, binding: string): Promise<void>;
  /** Hashes of the binding's live sessions, least recently used first; undefined if Redis failed. */
  ofBinding(binding: string): Promise<string[] | undefined>;
  /** Live sessions across replicas; undefined if Redis failed. */
  total(): Promise<number | undefined>;
  onClosed(listener: (hash: string) => void): void;
  /** Tells the replica holding the session that an answer for it landed elsewhere. */
  misrouted(hash: string): Promise<void>;
  onMisrouted(listener: (hash: string) => void): void;
}

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

  const write = async (record: SessionRecord, full: boolean) => {
    const hash = sha(record.id);
    const m = r.multi();
    if (full) m.set(recordKey(hash), JSON.stringify(record), 'PX', idleTtlMs);
    else m.pexpire(recordKey(hash), idleTtlMs);
    m.zadd(bindingKey(record.binding), record.lastSeen, hash);
    m.pexpire(bindingKey(record.binding), idleTtlMs);
    m.zadd(allKey, record.lastSeen, hash);
    await m.exec();
  };

  return {
    hashOf: sha,
    async save(record) {
      try {
        await write(record, true);
        return true;
      } catch (err) {
        onProblem('session record not saved', err);
        return false;
      }
    },
    async touch(record) {
      try {
        await write(record, false);
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
    async ofBinding(binding) {
      try {
        const key = bindingKey(binding);
        await r.zremrangebyscore(key, '-inf', String(now() - idleTtlMs));
        return await r.zrange(key, '0', '-1');
      } catch (err) {
        onProblem('session list not read', err);
        return undefined;
      }
    },
    async total() {
      try {
        await r.zremrangebyscore(allKey, '-inf', String(now() - idleTtlMs));
        return await r.zcard(allKey);
      } catch (err) {
        onProblem('session count not read', err);
        return undefined;
      }
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
