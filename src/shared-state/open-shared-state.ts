import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';
import type { Redis, RedisOptions } from 'ioredis';
import { resolveSecret, type SecretRef } from '../secrets/index.js';

/** The `redis` section of the configuration, as this module reads it. */
export interface SharedStateConfig {
  readonly url?: string | undefined;
  readonly password?: SecretRef | undefined;
  readonly prefix: string;
}

/**
 * Fast state shared by the replicas of one deployment, in Redis: what may be lost (counters,
 * throttles, session records, invalidation messages). What must not be lost — taint,
 * confirmation nonces, approvals, audit — stays in the database (docs/storage.md).
 *
 * One command connection for every user (rate limits, throttles, sessions), failing fast: one
 * retry, no offline queue and a command timeout, so a dead or frozen Redis costs a call at most
 * `commandTimeoutMs` and callers fall back (per-replica counting, local session, database read)
 * instead of waiting. A second connection is the subscriber.
 */
export interface SharedState {
  readonly client: Redis;
  /** `redis.prefix`; every key and channel starts with it. */
  readonly prefix: string;
  /** `prefix` + the parts joined by `:`. */
  key(...parts: string[]): string;
  /** Whether Redis answers a PING within the command timeout (for /readyz). */
  ping(): Promise<boolean>;
  /**
   * Waits (at most `timeoutMs`) until both connections are up and subscribed, so the first
   * requests after a start do not take the fallbacks; false when Redis did not come in time.
   */
  ready(timeoutMs: number): Promise<boolean>;
  /** Publishes on `key(channel)`; false when Redis did not take it (the caller has a fallback). */
  publish(channel: string, message: string): Promise<boolean>;
  /**
   * Receives every message on `key(channel)`. Messages published while the subscription was
   * down are lost: `listen` reports every change of health so the listener can drop what it
   * cached from messages (a resubscription may have missed some).
   */
  subscribe(channel: string, listener: SubscriptionListener): void;
  /**
   * True only while the subscriber is subscribed and Redis answered its last heartbeat, sent at
   * most `freshMs` ago. A message published before that heartbeat has been received (Redis
   * answers one connection in order), so a cache invalidated by messages is at most `freshMs`
   * stale while this holds.
   */
  subscriptionFresh(): boolean;
  close(): Promise<void>;
}

export interface SubscriptionListener {
  message(message: string): void;
  /** Called with false when the subscription is lost, with true once it is back. */
  health?(healthy: boolean): void;
}

export interface SharedStateOptions {
  /** Longest any one command may take before it fails (default 1000 ms). */
  readonly commandTimeoutMs?: number;
  /** How often the subscriber's heartbeat runs, and how old it may be (default 1000 ms). */
  readonly freshMs?: number;
  /** Told whenever a connection fails (logged once per outage by the caller). */
  readonly onError?: (err: Error) => void;
  readonly now?: () => number;
}

/**
 * The Redis client, loaded only when a deployment configures Redis: a gateway on one machine
 * never needs it, and loading it costs every such process about 8 MiB of memory.
 */
function loadRedis(): typeof Redis {
  return (createRequire(import.meta.url)('ioredis') as typeof IORedis).Redis;
}

/** Undefined without `redis.url`: everything then stays in this process. */
export function openSharedState(
  config: SharedStateConfig,
  env: NodeJS.ProcessEnv,
  opts: SharedStateOptions = {},
): SharedState | undefined {
  if (!config.url) return undefined;
  const commandTimeout = opts.commandTimeoutMs ?? 1000;
  const freshMs = opts.freshMs ?? 1000;
  const now = opts.now ?? Date.now;
  const onError = opts.onError ?? (() => undefined);
  const base: RedisOptions = {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout,
    connectTimeout: Math.max(commandTimeout, 2000),
    // Reconnect quickly and forever: a Redis outage ends by itself without a restart.
    retryStrategy: (times) => Math.min(times * 100, 1000),
    ...(config.password ? { password: resolveSecret(config.password, env) } : {}),
  };
  const RedisClient = loadRedis();
  const client = new RedisClient(config.url, base);
  client.on('error', onError);

  // The subscriber resubscribes itself on every `ready` (autoResubscribe off), so "subscribed"
  // means acknowledged by this Redis, not merely requested.
  const sub = new RedisClient(config.url, { ...base, autoResubscribe: false, commandTimeout: undefined });
  sub.on('error', onError);
  const listeners = new Map<string, SubscriptionListener[]>();
  let subscribed = false;
  let heartbeatAt = 0; // when the last answered heartbeat was sent
  let closed = false;

  const setHealth = (healthy: boolean) => {
    if (subscribed === healthy) return;
    subscribed = healthy;
    if (!healthy) heartbeatAt = 0;
    for (const list of listeners.values()) for (const l of list) l.health?.(healthy);
  };
  const resubscribe = async () => {
    const channels = [...listeners.keys()];
    try {
      if (channels.length > 0) await sub.subscribe(...channels);
      heartbeatAt = now();
      setHealth(true);
    } catch (err) {
      onError(err as Error);
      setHealth(false);
    }
  };
  sub.on('ready', () => void resubscribe());
  sub.on('close', () => setHealth(false));
  sub.on('end', () => setHealth(false));
  sub.on('message', (channel: string, message: string) => {
    for (const l of listeners.get(channel) ?? []) l.message(message);
  });

  // Heartbeat: a frozen Redis (SIGSTOP, a partition) keeps the TCP connection open, so the
  // connection state alone would say "healthy" while nothing is delivered.
  let beating = false;
  const heartbeat = setInterval(
    () => {
      if (beating || closed || sub.status !== 'ready') return;
      beating = true;
      const sent = now();
      const timer = setTimeout(() => {
        // No answer in time: treat the subscription as lost and reconnect (resubscribes on ready).
        setHealth(false);
        sub.disconnect(true);
      }, freshMs);
      sub
        .ping()
        .then(() => {
          if (subscribed) heartbeatAt = sent;
        })
        .catch(() => setHealth(false))
        .finally(() => {
          clearTimeout(timer);
          beating = false;
        });
    },
    Math.max(50, Math.floor(freshMs / 3)),
  );
  heartbeat.unref();

  const key = (...parts: string[]) => `${config.prefix}${parts.join(':')}`;
  return {
    client,
    prefix: config.prefix,
    key,
    async ping() {
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async ready(timeoutMs) {
      const deadline = now() + timeoutMs;
      while (!(client.status === 'ready' && subscribed)) {
        if (closed || now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    },
    async publish(channel, message) {
      try {
        await client.publish(key(channel), message);
        return true;
      } catch (err) {
        onError(err as Error);
        return false;
      }
    },
    subscribe(channel, listener) {
      const name = key(channel);
      const list = listeners.get(name);
      if (list) {
        list.push(listener);
        return;
      }
      listeners.set(name, [listener]);
      // Until Redis acknowledges the new channel the subscription is not whole.
      setHealth(false);
      if (sub.status === 'ready') void resubscribe();
    },
    subscriptionFresh: () => subscribed && heartbeatAt > 0 && now() - heartbeatAt <= freshMs,
    async close() {
      closed = true;
      clearInterval(heartbeat);
      setHealth(false);
      sub.disconnect();
      client.disconnect();
    },
  };
}
