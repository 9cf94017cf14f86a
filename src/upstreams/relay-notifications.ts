import { randomUUID } from 'node:crypto';
import { sanitiseText } from '../safety/index.js';
import { LOG_LEVELS, type CallNotification, type LogLevel, type ToolContext } from '../tools/index.js';
import type { RequestOptions } from './rpc-connection.js';

/** Caps on what one call relays to its caller: a server cannot flood a client through the gateway. */
export const RELAY_LIMITS = {
  /** Notifications relayed per second of one call; more are dropped. */
  perSecond: 20,
  /** Notifications relayed over one call's life. */
  perCall: 200,
  /** Bytes of one relayed notification's params (as JSON); a larger one is dropped, not cut. */
  maxBytes: 8 * 1024,
} as const;

/**
 * Without a level from the caller, nothing below `info` is relayed. The level is applied here,
 * not sent upstream with `logging/setLevel`: that setting is per connection, and the connection
 * is shared by every caller, so one caller's level would change what another receives.
 */
const DEFAULT_LEVEL: LogLevel = 'info';

export type DropReason = 'rate' | 'size' | 'level' | 'malformed' | 'not-monotonic' | 'undeliverable';

export interface CallRelay {
  /** The token sent upstream when the caller asked for progress: ours, unique, never the caller's. */
  readonly progressToken: string | undefined;
  /** Handles the notifications the connection routed to this call; undefined when none can go anywhere. */
  readonly onNotification: RequestOptions['onNotification'];
  /** How many notifications were relayed and dropped (by reason), for the log. */
  counts(): { relayed: number; dropped: Partial<Record<DropReason, number>> };
}

/** Every string of a JSON value (keys too) mapped, depth-bounded; anything deeper is dropped. */
function mapStrings(value: unknown, fn: (text: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return fn(value);
  if (depth > 16 || value === null || typeof value !== 'object') {
    return typeof value === 'object' && value !== null ? undefined : value;
  }
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, fn(k), {
      value: mapStrings(v, fn, depth + 1),
      enumerable: true,
      writable: true,
    });
  }
  return out;
}

/**
 * The relay of one call's progress and log notifications to its caller (`ctx.notify`): the
 * upstream's progress under the caller's own token, log messages at or above the caller's level,
 * every string redacted of known secrets and cleaned of terminal escapes and invisible
 * characters, each at most `RELAY_LIMITS.maxBytes`, at most `perSecond` a second and `perCall`
 * in all. The connection decides which call a notification belongs to (rpc-connection.ts); this
 * decides whether and how it reaches the caller.
 */
export function createCallRelay(
  ctx: ToolContext,
  deps: { readonly redact: (text: string) => string; readonly now?: () => number },
): CallRelay {
  const now = deps.now ?? Date.now;
  const dropped: Partial<Record<DropReason, number>> = {};
  let relayed = 0;
  const recent: number[] = [];
  let lastProgress = -Infinity;
  const notify = ctx.notify;
  const counts = () => ({ relayed, dropped: { ...dropped } });
  if (!notify) return { progressToken: undefined, onNotification: undefined, counts };

  const drop = (why: DropReason) => void (dropped[why] = (dropped[why] ?? 0) + 1);
  const clean = (text: string) => deps.redact(sanitiseText(text.slice(0, RELAY_LIMITS.maxBytes)).text);
  const minimum = LOG_LEVELS.indexOf(ctx.logLevel ?? DEFAULT_LEVEL);

  const send = (notification: CallNotification) => {
    if (Buffer.byteLength(JSON.stringify(notification.params), 'utf8') > RELAY_LIMITS.maxBytes)
      return drop('size');
    const t = now();
    while (recent.length > 0 && recent[0]! <= t - 1000) recent.shift();
    if (relayed >= RELAY_LIMITS.perCall || recent.length >= RELAY_LIMITS.perSecond) return drop('rate');
    recent.push(t);
    relayed++;
    try {
      notify(notification);
    } catch {
      // The caller's transport is gone (the client left); the call itself carries on.
      drop('undeliverable');
    }
  };

  const progressToken = ctx.progressToken === undefined ? undefined : `portcullis-${randomUUID()}`;
  return {
    progressToken,
    counts,
    onNotification(method, params) {
      if (method === 'notifications/progress') {
        const { progress, total, message } = params;
        if (ctx.progressToken === undefined || typeof progress !== 'number' || !Number.isFinite(progress))
          return drop('malformed');
        if (total !== undefined && (typeof total !== 'number' || !Number.isFinite(total)))
          return drop('malformed');
        if (message !== undefined && typeof message !== 'string') return drop('malformed');
        // MCP basic/utilities/progress: the value MUST increase with each notification.
        if (progress <= lastProgress) return drop('not-monotonic');
        lastProgress = progress;
        send({
          method,
          params: {
            progressToken: ctx.progressToken,
            progress,
            ...(total !== undefined ? { total } : {}),
            ...(message !== undefined ? { message: clean(message) } : {}),
          },
        });
        return;
      }
      const { level, logger, data } = params;
      const rank = typeof level === 'string' ? LOG_LEVELS.indexOf(level as LogLevel) : -1;
      if (rank === -1 || !('data' in params) || (logger !== undefined && typeof logger !== 'string'))
        return drop('malformed');
      if (rank < minimum) return drop('level');
      const shown = mapStrings(data, clean);
      send({
        method,
        params: {
          level,
          ...(typeof logger === 'string' ? { logger: clean(logger.slice(0, 128)) } : {}),
          data: shown ?? null,
        },
      });
    },
  };
}
