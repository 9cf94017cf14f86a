import { UpstreamError } from './errors.js';

/** One JSON-RPC 2.0 message as it crosses a channel, not yet trusted. */
export type RpcMessage = Record<string, unknown>;

/**
 * A message pipe to one upstream: stdio lines or Streamable HTTP posts. `send` resolves once the
 * message is handed over; what comes back arrives through `onMessage`.
 */
export interface Channel {
  send(message: RpcMessage, signal?: AbortSignal): Promise<void>;
  /**
   * Opens the server's stream for messages that belong to no request (the standalone GET stream
   * of 2025 Streamable HTTP), kept open until the channel closes. Absent where there is none.
   */
  listen?(): void;
  close(): Promise<void>;
  /**
   * The negotiated MCP revision, for transports that must repeat it (HTTP headers; 2026-07-28
   * also sends its standard headers and no session). Undefined while nothing is negotiated.
   */
  setProtocolVersion?(version: string | undefined): void;
  /**
   * `origin` is the id of the request on whose own response stream the message came (HTTP);
   * undefined when the transport cannot tell (stdio).
   */
  onMessage: ((message: RpcMessage, origin?: number) => void) | undefined;
  /** Every server message arrives on the stream of the request it belongs to (Streamable HTTP). */
  readonly perRequestStreams?: boolean;
  /** A message over the size cap was skipped; `tail` is its last bytes (to find its id). */
  onOversized?: ((tail: string) => void) | undefined;
  /** Called once when the channel can carry nothing more, with a reason for the log. */
  onClose: ((reason: string) => void) | undefined;
}

export interface RpcConnection {
  request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions,
  ): Promise<unknown>;
  notify(method: string, params?: Record<string, unknown>): Promise<void>;
  /**
   * 2026-07-28: the per-request `_meta` envelope every later request carries (build-envelope.ts),
   * under what `RequestOptions.meta` adds for one request. Undefined: the 2025 era, no envelope.
   */
  setEnvelope(meta: Readonly<Record<string, unknown>> | undefined): void;
  close(): Promise<void>;
  /** Settles with the reason once the connection is closed, by either side. */
  readonly closed: Promise<string>;
}

/** A notification about one request, routed to that request only. */
export type RequestNotificationMethod = 'notifications/progress' | 'notifications/message';

export interface RequestOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Sent as `_meta.progressToken`; the gateway's own, unique per request (never a caller's). */
  readonly progressToken?: string;
  /** Progress with this request's token, and log messages attributable to this request alone. */
  readonly onNotification?: (method: RequestNotificationMethod, params: Record<string, unknown>) => void;
  /**
   * Made on a caller's behalf (a call, a read…), not for the gateway's own upkeep (listing, ping).
   * Over stdio, a message no stream names is attributed to the one caller request in flight.
   */
  readonly forCaller?: boolean;
  /** `_meta` entries of this request over the envelope (the caller's capabilities, log level). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** A relayed server request (RpcConnectionOptions.relayed) attributable to this request alone. */
  readonly onInputRequest?: (method: InputRequestMethod, params: Record<string, unknown>) => Promise<unknown>;
}

export interface RpcConnectionOptions {
  readonly upstream: string;
  /** Every notification that is not about one request (list changes, resource updates…). */
  readonly onNotification?: (method: string, params: unknown) => void;
  /** A progress or log notification no request could be held responsible for was dropped. */
  readonly onDroppedNotification?: (method: string, why: string) => void;
  /** A server-to-client request was refused (sampling, roots, elicitation…). */
  readonly onDeniedRequest?: (method: string) => void;
  /** Server requests the operator lets through to the caller (config `inputRequests`). */
  readonly relayed?: ReadonlySet<InputRequestMethod>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  readonly progressToken?: string;
  readonly onNotification?: RequestOptions['onNotification'];
  readonly onInputRequest?: RequestOptions['onInputRequest'];
  readonly forCaller?: boolean;
  /** Questions of this request waiting for the caller: meanwhile it is not the one asking. */
  asking: number;
}

/** The client features a server may ask for during a request (MCP client features). */
export type InputRequestMethod = 'elicitation/create' | 'sampling/createMessage' | 'roots/list';
const INPUT_REQUEST_METHODS: readonly string[] = [
  'elicitation/create',
  'sampling/createMessage',
  'roots/list',
];
const isInputRequestMethod = (m: string): m is InputRequestMethod => INPUT_REQUEST_METHODS.includes(m);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * JSON-RPC over a channel, as an MCP client: numbered requests with a deadline each, cancellation
 * (`notifications/cancelled`, MCP basic/utilities/cancellation), and refusal of every request the
 * server sends except `ping` and the ones the operator relays (`relayed`; by default only form
 * elicitation). A server asking for sampling could spend the user's model budget or inject into
 * the model's context; one asking for roots learns the client's filesystem layout; so those are
 * off unless the operator turns them on, and whatever is off is answered with -32601.
 *
 * Progress and log notifications belong to one caller's request, and a hostile server may try to
 * reach another caller with them, so they are routed here, where the requests are known:
 * progress only by the gateway's own token of a request still waiting (and, over HTTP, only on
 * that request's own response stream); a log message only to the request whose stream carried
 * it (HTTP) or, over stdio, to the one request in flight when exactly one is. Anything else is
 * dropped.
 */
export function createRpcConnection(channel: Channel, options: RpcConnectionOptions): RpcConnection {
  const pending = new Map<number, Pending>();
  const byToken = new Map<string, number>();
  let nextId = 1;
  let envelope: Readonly<Record<string, unknown>> | undefined;
  let closedReason: string | undefined;
  let markClosed!: (reason: string) => void;
  const closed = new Promise<string>((resolve) => (markClosed = resolve));

  const shutDown = (reason: string) => {
    if (closedReason !== undefined) return;
    closedReason = reason;
    for (const p of pending.values()) {
      p.reject(
        new UpstreamError(
          'upstream-closed',
          `The upstream server "${options.upstream}" stopped while handling the call.`,
          {
            detail: reason,
          },
        ),
      );
    }
    pending.clear();
    byToken.clear();
    markClosed(reason);
  };

  const answer = (id: unknown, body: { result: unknown } | { error: { code: number; message: string } }) =>
    channel.send({ jsonrpc: '2.0', id, ...body }).catch(() => {});

  const forget = (id: number) => {
    const p = pending.get(id);
    if (p?.progressToken !== undefined) byToken.delete(p.progressToken);
    return pending.delete(id);
  };

  const drop = (method: string, why: string) => options.onDroppedNotification?.(method, why);

  /**
   * The one request in flight on a caller's behalf, if exactly one is. The gateway's own requests
   * (a re-listing) belong to no caller, so they neither receive such a message nor make it
   * unattributable; neither does a request whose server waits for its caller's answer (parked
   * until the caller retries); two callers' requests in flight do.
   */
  const onlyCallerRequest = (): number | undefined => {
    let found: number | undefined;
    for (const [id, p] of pending) {
      // A request whose server is waiting for the caller's answer is not the one in flight now.
      if (!p.forCaller || p.asking > 0) continue;
      if (found !== undefined) return undefined;
      found = id;
    }
    return found;
  };

  /** Routes a progress or log notification to the one request it belongs to, or drops it. */
  const route = (method: RequestNotificationMethod, params: unknown, origin: number | undefined) => {
    if (!isObject(params)) return drop(method, 'malformed');
    let id: number | undefined;
    if (method === 'notifications/progress') {
      const token = params.progressToken;
      id = typeof token === 'string' ? byToken.get(token) : undefined;
      if (id === undefined) return drop(method, 'unknown-token');
      if (origin !== undefined && origin !== id) return drop(method, 'token-of-another-request');
    } else if (origin !== undefined) {
      id = origin;
    } else if (!channel.perRequestStreams && onlyCallerRequest() !== undefined) {
      id = onlyCallerRequest();
    } else {
      return drop(method, 'unattributable');
    }
    const target = id === undefined ? undefined : pending.get(id);
    if (!target?.onNotification) return drop(method, 'no-listener');
    target.onNotification(method, params);
  };

  /**
   * A server request the operator relays goes to the caller of the one request it belongs to,
   * found like a log message (its own stream over HTTP, the one request in flight over stdio);
   * that caller's answer goes back. Unattributable, or a caller who cannot be asked: refused.
   */
  const relayRequest = (
    id: unknown,
    method: InputRequestMethod,
    params: unknown,
    origin: number | undefined,
  ) => {
    const owner = origin !== undefined ? origin : channel.perRequestStreams ? undefined : onlyCallerRequest();
    const target = owner === undefined ? undefined : pending.get(owner);
    if (!target?.onInputRequest || !isObject(params ?? {})) {
      options.onDeniedRequest?.(method);
      void answer(id, {
        error: {
          code: -32601,
          message: 'Method not found: Portcullis cannot relay this request to a caller.',
        },
      });
      return;
    }
    target.asking += 1;
    target.onInputRequest(method, (params ?? {}) as Record<string, unknown>).then(
      (result) => {
        target.asking -= 1;
        void answer(id, { result });
      },
      (err: unknown) => {
        target.asking -= 1;
        const message = err instanceof Error ? err.message.slice(0, 500) : 'The caller could not answer.';
        void answer(id, { error: { code: -32603, message } });
      },
    );
  };

  channel.onClose = shutDown;
  // An answer too large to read fails the request it answered: named by the id at its end (the
  // SDKs write `…,"jsonrpc":"2.0","id":N}`), or the only request waiting. Otherwise the request
  // runs into its deadline.
  channel.onOversized = (tail) => {
    const m = /"id"\s*:\s*(\d+)\s*\}\s*$/.exec(tail);
    const id = m ? Number(m[1]) : pending.size === 1 ? [...pending.keys()][0]! : undefined;
    const p = id === undefined ? undefined : pending.get(id);
    if (!p || id === undefined) return;
    forget(id);
    p.reject(
      new UpstreamError(
        'upstream-message-too-large',
        `The result from "${options.upstream}" was over the size cap. Ask for less (a narrower query or a smaller range).`,
      ),
    );
  };
  channel.onMessage = (msg, origin) => {
    if (closedReason !== undefined) return;
    const method = msg.method;
    if (typeof method === 'string') {
      if ('id' in msg && msg.id !== null && msg.id !== undefined) {
        if (method === 'ping') void answer(msg.id, { result: {} });
        else if (isInputRequestMethod(method) && options.relayed?.has(method)) {
          relayRequest(msg.id, method, msg.params, origin);
        } else {
          options.onDeniedRequest?.(method.slice(0, 100));
          void answer(msg.id, {
            error: { code: -32601, message: 'Method not found: Portcullis does not relay this request.' },
          });
        }
      } else if (method === 'notifications/progress' || method === 'notifications/message') {
        route(method, msg.params, origin);
      } else {
        options.onNotification?.(method, msg.params);
      }
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = pending.get(msg.id);
    if (!p) return;
    forget(msg.id);
    if ('error' in msg && typeof msg.error === 'object' && msg.error !== null) {
      const e = msg.error as { code?: unknown; message?: unknown; data?: unknown };
      const text = typeof e.message === 'string' ? e.message.slice(0, 2000) : 'unknown error';
      p.reject(
        new UpstreamError(
          'upstream-rpc-error',
          `The upstream server "${options.upstream}" returned an error: ${text}`,
          {
            detail: `code ${String(e.code).slice(0, 20)}`,
            rpc: { code: e.code, data: e.data },
          },
        ),
      );
    } else if ('result' in msg) {
      p.resolve(msg.result);
    } else {
      p.reject(
        new UpstreamError(
          'upstream-protocol-error',
          `The upstream server "${options.upstream}" sent a malformed response.`,
        ),
      );
    }
  };

  return {
    closed,
    async request(
      method,
      params,
      { timeoutMs, signal, progressToken, onNotification, onInputRequest, forCaller, meta },
    ) {
      if (closedReason !== undefined) {
        throw new UpstreamError(
          'upstream-closed',
          `The upstream server "${options.upstream}" is not running.`,
          {
            detail: closedReason,
          },
        );
      }
      if (signal?.aborted) throw new UpstreamError('upstream-cancelled', 'The call was cancelled.');
      const id = nextId++;
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      // 2026-07-28 over HTTP, a request is cancelled by closing its stream (the aborted POST).
      const cancel = (reason: string) => {
        if (envelope && channel.perRequestStreams) return;
        void channel
          .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } })
          .catch(() => {});
      };
      const settled = new Promise<unknown>((resolve, reject) => {
        pending.set(id, {
          resolve,
          reject,
          asking: 0,
          ...(progressToken !== undefined ? { progressToken } : {}),
          ...(onNotification ? { onNotification } : {}),
          ...(onInputRequest ? { onInputRequest } : {}),
          ...(forCaller ? { forCaller } : {}),
        });
        if (progressToken !== undefined) byToken.set(progressToken, id);
        timer = setTimeout(() => {
          if (!forget(id)) return;
          cancel('timeout');
          reject(
            new UpstreamError(
              'upstream-timeout',
              `The upstream server "${options.upstream}" did not answer within ${Math.round(timeoutMs / 1000)} s.`,
            ),
          );
        }, timeoutMs);
        onAbort = () => {
          if (!forget(id)) return;
          cancel('cancelled by the client');
          reject(new UpstreamError('upstream-cancelled', 'The call was cancelled.'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      // MCP basic/utilities/progress: the token rides in the request's `_meta`, as does the
      // 2026-07-28 envelope.
      const extra = {
        ...envelope,
        ...(envelope ? meta : {}),
        ...(progressToken !== undefined ? { progressToken } : {}),
      };
      const sent =
        Object.keys(extra).length === 0
          ? params
          : { ...params, _meta: { ...(isObject(params?._meta) ? params._meta : {}), ...extra } };
      // Over HTTP the answer arrives while `send` is still reading the response, and the
      // connection may close meanwhile: `settled` can reject before it is awaited (or, when the
      // send fails, never be awaited), so it is marked handled here; the await below still sees it.
      settled.catch(() => {});
      try {
        await channel.send({ jsonrpc: '2.0', id, method, ...(sent ? { params: sent } : {}) }, signal);
        return await settled;
      } catch (err) {
        forget(id);
        throw err;
      } finally {
        clearTimeout(timer);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      }
    },
    notify: (method, params) => channel.send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) }),
    setEnvelope(meta) {
      envelope = meta;
    },
    async close() {
      shutDown('closed by the gateway');
      await channel.close();
    },
  };
}
