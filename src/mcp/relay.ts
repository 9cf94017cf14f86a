import type { CallNotification, InputRequest } from '../tools/index.js';

/** Where a running call's notifications and input requests go: the request's own stream. */
export interface RelaySink {
  readonly notify: (notification: CallNotification) => Promise<void>;
  /** Asks the person behind the call; absent when this caller cannot be asked (no session…). */
  readonly input?: (request: InputRequest) => Promise<Record<string, unknown>>;
}

/**
 * The notifications of one running call (an upstream's progress and log messages), on their way to
 * the caller that made the call and to no one else. The call starts before the SDK has the
 * request's response stream, so what arrives first is held (bounded) until the stream attaches.
 */
export interface CallRelay {
  /** Given to the target as `ToolContext.notify`. */
  readonly notify: (notification: CallNotification) => void;
  /** Given to the target as `ToolContext.requestInput`. */
  readonly requestInput: (request: InputRequest) => Promise<Record<string, unknown>>;
  /** Sends what is held, then everything that follows, to the request's stream. */
  attach(sink: RelaySink): void;
  /** The call is over: nothing more is sent. */
  close(): void;
  /** Notifications not delivered (held past the bound, or after the end). */
  readonly dropped: number;
}

/** Most notifications held before the stream attaches; the rest are dropped, never buffered. */
const MAX_HELD = 64;

export function createCallRelay(redact: <T>(value: T) => T): CallRelay {
  const held: CallNotification[] = [];
  let sink: RelaySink | undefined;
  let closed = false;
  let dropped = 0;
  /** Input requests that arrived before the stream attached (the upstream asked at once). */
  const waiting: (() => void)[] = [];
  const send = (n: CallNotification) => {
    // A caller that went away only loses its own notifications.
    sink!.notify(n).catch(() => (dropped += 1));
  };
  const ask = (request: InputRequest) => {
    if (closed) return Promise.reject(new Error('The call is over.'));
    if (!sink?.input) return Promise.reject(new Error(`The caller cannot be asked for ${request.method}.`));
    return sink.input(request);
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
    requestInput(request) {
      if (sink || closed) return ask(request);
      if (waiting.length >= 4)
        return Promise.reject(new Error('Too many requests before the caller was reached.'));
      return new Promise((resolve, reject) => waiting.push(() => void ask(request).then(resolve, reject)));
    },
    attach(s) {
      if (sink || closed) return;
      sink = s;
      for (const n of held.splice(0)) send(n);
      for (const go of waiting.splice(0)) go();
    },
    close() {
      closed = true;
      held.length = 0;
      for (const go of waiting.splice(0)) go();
    },
    get dropped() {
      return dropped;
    },
  };
}
