import type { CallNotification, LogLevel } from '../tools/index.js';

/**
 * The notifications of one running call (an upstream's progress and log messages), on their way to
 * the caller that made the call and to no one else. The call starts before the SDK has the
 * request's response stream, so what arrives first is held (bounded) until the stream attaches.
 */
export interface CallRelay {
  /** Given to the target as `ToolContext.notify`. */
  readonly notify: (notification: CallNotification) => void;
  /** Sends what is held, then everything that follows, to the request's stream. */
  attach(sink: (notification: CallNotification) => Promise<void>): void;
  /** The call is over: nothing more is sent. */
  close(): void;
  /** Notifications not delivered (held past the bound, or after the end). */
  readonly dropped: number;
}

/** Most notifications held before the stream attaches; the rest are dropped, never buffered. */
const MAX_HELD = 64;

export function createCallRelay(redact: <T>(value: T) => T): CallRelay {
  const held: CallNotification[] = [];
  let sink: ((n: CallNotification) => Promise<void>) | undefined;
  let closed = false;
  let dropped = 0;
  const send = (n: CallNotification) => {
    // A caller that went away only loses its own notifications.
    sink!(n).catch(() => (dropped += 1));
  };
  return {
    notify(notification) {
      if (closed) return void (dropped += 1);
      // The gateway's own redaction over whatever the upstream side already removed.
      const n = { method: notification.method, params: redact(notification.params) } as CallNotification;
      if (sink) send(n);
      else if (held.length < MAX_HELD) held.push(n);
      else dropped += 1;
    },
    attach(s) {
      if (sink || closed) return;
      sink = s;
      for (const n of held.splice(0)) send(n);
    },
    close() {
      closed = true;
      held.length = 0;
    },
    get dropped() {
      return dropped;
    },
  };
}

/** RFC 5424 severities as MCP logging names them, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
];

export const isLogLevel = (v: unknown): v is LogLevel => (LOG_LEVELS as readonly unknown[]).includes(v);
