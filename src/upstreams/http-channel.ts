import {
  isEgressError,
  type EgressGuard,
  type EgressRequestInit,
  type EgressResponse,
} from '../egress/index.js';
import { MODERN_REVISION, standardHeaders } from './build-envelope.js';
import { UpstreamError } from './errors.js';
import type { Channel, RpcMessage } from './rpc-connection.js';

export interface HttpAuth {
  /** Headers carrying the gateway's own credential for this upstream. */
  headers(signal?: AbortSignal): Promise<Record<string, string>>;
  /** Called after a 401: drop a cached token so the next `headers()` fetches a new one. */
  invalidate(): void;
}

function parseSse(text: string): RpcMessage[] {
  const out: RpcMessage[] = [];
  for (const event of text.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data.trim() === '') continue;
    out.push(...parseJson(data));
  }
  return out;
}

/**
 * An event stream read as it arrives (HTML Living Standard, server-sent events): the messages of
 * each complete event at once, so a request's progress, log messages and server requests reach
 * the gateway while the request is still running, not in one burst at its end.
 */
function sseReader(deliver: (message: RpcMessage) => void) {
  const decoder = new TextDecoder();
  let pending = '';
  const flush = (events: readonly string[]) => {
    for (const event of events) for (const m of parseSse(event)) deliver(m);
  };
  return {
    push(chunk: Uint8Array) {
      pending += decoder.decode(chunk, { stream: true });
      const events = pending.split(/\r?\n\r?\n/);
      pending = events.pop() ?? '';
      flush(events);
    },
    end() {
      flush([pending + decoder.decode()]);
      pending = '';
    },
  };
}

function parseJson(text: string): RpcMessage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.filter((m): m is RpcMessage => typeof m === 'object' && m !== null && !Array.isArray(m));
}

/**
 * MCP's Streamable HTTP transport (2025-11-25 basic/transports), client side, through the egress
 * guard: every message is a POST; a request's answer comes back as JSON or as an SSE stream
 * that ends with the response, handed on event by event as it is read (bounded like any body).
 * `listen()` opens the standalone GET stream of a 2025 session (see listenLoop). A 404 on a
 * session means the server forgot it: the channel closes and the supervisor reconnects with a
 * fresh `initialize`.
 */
export function createHttpChannel(options: {
  readonly upstream: string;
  readonly url: string;
  readonly guard: EgressGuard;
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: HttpAuth | undefined;
}): Channel {
  let sessionId: string | undefined;
  let protocolVersion: string | undefined;
  let closed = false;

  const finish = (reason: string) => {
    if (closed) return;
    closed = true;
    channel.onClose?.(reason);
  };

  const post = async (
    method: 'POST' | 'DELETE' | 'GET',
    message: RpcMessage | undefined,
    signal: AbortSignal | undefined,
    onChunk?: EgressRequestInit['onChunk'],
  ): Promise<EgressResponse> => {
    const body = message === undefined ? undefined : JSON.stringify(message);
    // 2026-07-28 has no session: each request names its revision, method and target (SEP-2243).
    const era =
      protocolVersion === MODERN_REVISION
        ? standardHeaders(message ?? {})
        : {
            ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
            ...(protocolVersion ? { 'mcp-protocol-version': protocolVersion } : {}),
          };
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        ...options.headers,
        ...(await options.auth?.headers(signal)),
        accept: method === 'GET' ? 'text/event-stream' : 'application/json, text/event-stream',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...era,
      };
      const res = await options.guard.fetch(options.url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(signal ? { signal } : {}),
        ...(onChunk ? { onChunk } : {}),
      });
      if (res.status === 401 && options.auth && attempt === 0) {
        options.auth.invalidate();
        continue;
      }
      return res;
    }
  };

  let listening = false;
  const stopListening = new AbortController();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stopListening.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });

  /**
   * The standalone GET stream of a 2025 server (basic/transports, "Listening for messages from
   * the server"): where it sends what belongs to no request, list changes and resource updates
   * above all. Its messages have no origin, so nothing on it is attributed to a caller (a log
   * line or a server request there is dropped or refused by rpc-connection). Each GET lasts at
   * most the guard's deadline and size cap and is then opened again: the guard stays one for
   * bounded requests. A server that does not offer it (405) is not asked again; a stream that
   * fails, or ends within a second, is reopened after a back-off (0.5 s doubling to 30 s).
   */
  async function listenLoop(): Promise<void> {
    let failures = 0;
    while (!closed) {
      const started = Date.now();
      const reader = sseReader((m) => channel.onMessage?.(m, undefined));
      let ok: boolean;
      try {
        const res = await post('GET', undefined, stopListening.signal, (chunk, r) => {
          if (r.status >= 200 && r.status < 300) reader.push(chunk);
        });
        if (res.status === 405) return;
        if (res.status === 404 && sessionId) return finish('the server ended the session (404)');
        ok = res.status >= 200 && res.status < 300;
        if (ok) reader.end();
      } catch (err) {
        if (closed) return;
        // The guard's deadline ends every stream in time; that is a stream that worked.
        ok = isEgressError(err) && err.code === 'egress-timeout';
      }
      failures = ok && Date.now() - started >= 1000 ? 0 : failures + 1;
      if (failures > 0) await pause(Math.min(30_000, 500 * 2 ** (failures - 1)));
    }
  }

  const channel: Channel = {
    onMessage: undefined,
    onClose: undefined,
    perRequestStreams: true,
    setProtocolVersion(version) {
      protocolVersion = version;
    },
    async send(message, signal) {
      if (closed)
        throw new UpstreamError(
          'upstream-closed',
          `The upstream server "${options.upstream}" is not connected.`,
        );
      // What comes back on a request's own stream is about that request: its progress and log
      // messages can be attributed to the caller who sent it, and to nobody else.
      const origin =
        typeof message.id === 'number' && typeof message.method === 'string' ? message.id : undefined;
      // A successful event stream is handed on event by event while it is read; anything else
      // is read whole first.
      const reader = sseReader((m) => channel.onMessage?.(m, origin));
      let streamed = false;
      const onChunk = (chunk: Uint8Array, r: { status: number; headers: Headers }) => {
        if (r.status < 200 || r.status > 299) return;
        if (!(r.headers.get('content-type') ?? '').includes('text/event-stream')) return;
        streamed = true;
        reader.push(chunk);
      };
      let res: EgressResponse;
      try {
        res = await post('POST', message, signal, onChunk);
      } catch (err) {
        if (isEgressError(err)) {
          if (err.code === 'egress-aborted')
            throw new UpstreamError('upstream-cancelled', 'The call was cancelled.');
          if (err.code === 'egress-response-too-large') {
            throw new UpstreamError(
              'upstream-message-too-large',
              `The upstream server "${options.upstream}" sent a message over the size cap.`,
            );
          }
          throw new UpstreamError(
            'upstream-unavailable',
            `The upstream server "${options.upstream}" cannot be reached.`,
            {
              detail: `${err.code}: ${err.detail ?? err.message}`,
              cause: err,
            },
          );
        }
        throw err;
      }
      if (res.status === 404 && sessionId) {
        finish('the server ended the session (404)');
        throw new UpstreamError(
          'upstream-closed',
          `The upstream server "${options.upstream}" ended its session; reconnecting.`,
        );
      }
      if (res.status === 202 || res.status === 204) return;
      // 2026-07-28 answers some JSON-RPC errors with an HTTP status (400 for -32021, 404 for an
      // unknown method): the error for this request is its answer, not a transport failure.
      const errorAnswer =
        protocolVersion === MODERN_REVISION && res.status >= 400 && res.status < 500
          ? parseJson(res.text()).filter((m) => m.id === message.id && 'error' in m)
          : [];
      if (errorAnswer.length > 0) {
        for (const m of errorAnswer)
          channel.onMessage?.(m, typeof message.id === 'number' ? message.id : undefined);
        return;
      }
      if (res.status < 200 || res.status > 299) {
        throw new UpstreamError(
          'upstream-http-error',
          `The upstream server "${options.upstream}" answered HTTP ${res.status}.`,
          {
            detail: res.text().slice(0, 500),
          },
        );
      }
      const sid = res.headers.get('mcp-session-id');
      if (sid && /^[\x21-\x7e]{1,256}$/.test(sid)) sessionId = sid;
      if (streamed) return reader.end();
      const type = res.headers.get('content-type') ?? '';
      const messages = type.includes('text/event-stream') ? parseSse(res.text()) : parseJson(res.text());
      for (const m of messages) channel.onMessage?.(m, origin);
    },
    listen() {
      if (listening || closed || protocolVersion === MODERN_REVISION) return;
      listening = true;
      void listenLoop();
    },
    async close() {
      if (closed) return;
      const hadSession = sessionId !== undefined;
      stopListening.abort();
      finish('closed by the gateway');
      // Explicit session termination is a SHOULD for clients that no longer need it.
      if (hadSession) await post('DELETE', undefined, AbortSignal.timeout(2000)).catch(() => {});
    },
  };
  return channel;
}
