import { isEgressError, type EgressGuard } from '../egress/index.js';
import { ScanError } from './errors.js';
import {
  asReply,
  CLIENT_INFO,
  initializeParams,
  isObject,
  legacyHello,
  MODERN_REVISION,
  modernHello,
  type RpcReply,
  type ServerHello,
  type Session,
} from './session.js';

/** An MCP endpoint over Streamable HTTP, reached only through the scan's egress guard. */
export interface HttpTarget {
  readonly url: URL;
  readonly guard: EgressGuard;
  /** The credential headers (`--header`, `--bearer-env`), sent unless a request says otherwise. */
  readonly credential: Readonly<Record<string, string>>;
}

export interface HttpExchange {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The JSON-RPC response to the request, if the body held one. */
  readonly reply?: Pick<RpcReply, 'result' | 'error'>;
}

export interface PostOptions {
  /** Send the target's credential (default true). */
  readonly credential?: boolean;
  /** More headers, or replacements (a forged Authorization, a foreign Origin). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Another URL than the endpoint's (the query-string token check). */
  readonly url?: URL;
  readonly method?: string;
}

/** Which body field `Mcp-Name` mirrors (SEP-2243), per method. */
const NAME_FIELD: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** The JSON-RPC messages of a JSON or SSE body (SSE: the `data:` lines of each event). */
function messagesOf(text: string, contentType: string): unknown[] {
  const parse = (s: string): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      return undefined;
    }
  };
  if (!contentType.includes('text/event-stream')) return [parse(text)];
  return text
    .split(/\r?\n\r?\n/)
    .map((event) =>
      event
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((data) => data.trim() !== '')
    .map(parse);
}

/** A transport failure as the scan reports it: what the guard said, never a resolved address. */
export function scanErrorOf(err: unknown, url: URL): ScanError {
  if (isEgressError(err)) {
    const code =
      err.code === 'egress-timeout'
        ? 'scan-timeout'
        : err.code === 'egress-response-too-large'
          ? 'scan-too-large'
          : 'scan-connect-failed';
    return new ScanError(code, `${url.origin}: ${err.publicMessage}`, { cause: err });
  }
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
  const message = err instanceof Error ? err.message : String(err);
  return new ScanError('scan-connect-failed', `${url.origin}: ${message}${cause}`, { cause: err });
}

/** POSTs one JSON-RPC message to the endpoint; the raw exchange, whatever the status. */
export async function postMessage(
  target: HttpTarget,
  message: Record<string, unknown>,
  opts: PostOptions = {},
): Promise<HttpExchange> {
  const url = opts.url ?? target.url;
  let res;
  try {
    res = await target.guard.fetch(url, {
      method: opts.method ?? 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'user-agent': `${CLIENT_INFO.name}/${CLIENT_INFO.version}`,
        ...(opts.credential === false ? {} : target.credential),
        ...opts.headers,
      },
      body: JSON.stringify(message),
    });
  } catch (err) {
    throw scanErrorOf(err, url);
  }
  const text = res.text();
  const id = typeof message.id === 'number' ? message.id : -1;
  const reply = messagesOf(text, res.headers.get('content-type') ?? '')
    .map((m) => asReply(m, id))
    .find((r) => r !== undefined);
  return { status: res.status, headers: res.headers, text, ...(reply ? { reply } : {}) };
}

/** The 2026-07-28 request: the per-request `_meta` envelope and the standard headers. */
export function modernMessage(id: number, method: string, params: Record<string, unknown> = {}) {
  const field = NAME_FIELD[method];
  const value = field !== undefined ? params[field] : undefined;
  const name = typeof value === 'string' ? value : undefined;
  const headers: Record<string, string> = {
    'mcp-protocol-version': MODERN_REVISION,
    'mcp-method': method,
    // SEP-2243: a value that is not plain header text travels as `=?base64?…?=`.
    ...(name !== undefined
      ? {
          'mcp-name': /^[\x21-\x7e]*$/.test(name)
            ? name
            : `=?base64?${Buffer.from(name, 'utf8').toString('base64')}?=`,
        }
      : {}),
  };
  const message = {
    jsonrpc: '2.0',
    id,
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
        'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  };
  return { message, headers };
}

export type OpenResult =
  | { readonly kind: 'open'; readonly session: HttpSession }
  /** The server refused the connection attempt: 401/403, or another non-2xx status. */
  | { readonly kind: 'refused'; readonly exchange: HttpExchange };

export class HttpSession implements Session {
  readonly transport = 'http';
  private nextId = 10;

  constructor(
    private readonly target: HttpTarget,
    readonly hello: ServerHello,
    private readonly credential: boolean,
    /** The 2025 era's Mcp-Session-Id, when the server issued one. */
    readonly sessionId: string | undefined,
  ) {}

  /** The headers and message for one request in this session's era. */
  frame(id: number, method: string, params?: Record<string, unknown>) {
    if (this.hello.era === 'modern') return modernMessage(id, method, params);
    return {
      message: { jsonrpc: '2.0', id, method, ...(params ? { params } : {}) },
      headers: {
        'mcp-protocol-version': this.hello.protocolVersion,
        ...(this.sessionId !== undefined ? { 'mcp-session-id': this.sessionId } : {}),
      },
    };
  }

  /** One request, raw: the exchange, with the caller's header changes applied last. */
  async exchange(
    method: string,
    params?: Record<string, unknown>,
    opts: PostOptions = {},
  ): Promise<HttpExchange> {
    const { message, headers } = this.frame(this.nextId++, method, params);
    return postMessage(this.target, message, {
      credential: opts.credential ?? this.credential,
      ...opts,
      headers: { ...headers, ...opts.headers },
    });
  }

  async request(method: string, params?: Record<string, unknown>): Promise<RpcReply> {
    const ex = await this.exchange(method, params);
    if (ex.reply) return { ...ex.reply, status: ex.status, headers: ex.headers };
    return {
      error: { code: 0, message: `HTTP ${ex.status} with no JSON-RPC response` },
      status: ex.status,
      headers: ex.headers,
    };
  }

  async close(): Promise<void> {
    if (this.sessionId === undefined) return;
    // 2025 transport: DELETE ends the session; a server may answer 405, which is fine.
    try {
      await this.target.guard.fetch(this.target.url, {
        method: 'DELETE',
        headers: {
          ...(this.credential ? this.target.credential : {}),
          'mcp-session-id': this.sessionId,
          'mcp-protocol-version': this.hello.protocolVersion,
        },
      });
    } catch {
      // Closing is best effort; the report is already complete.
    }
  }
}

/**
 * Opens a session in the newest era the server speaks: a 2026-07-28 `server/discover` probe
 * first (stateless, no session), then the 2025 `initialize` handshake. A refusal (401, 403 or
 * any non-2xx) is returned, not thrown: the auth checks read it.
 */
export async function openHttpSession(
  target: HttpTarget,
  opts: { credential?: boolean; headers?: Readonly<Record<string, string>> } = {},
): Promise<OpenResult> {
  const credential = opts.credential ?? true;
  const probe = modernMessage(1, 'server/discover');
  const discover = await postMessage(target, probe.message, {
    credential,
    headers: { ...probe.headers, ...opts.headers },
  });
  if (discover.status === 401 || discover.status === 403) return { kind: 'refused', exchange: discover };
  const versions = discover.reply?.result?.supportedVersions;
  if (discover.status < 300 && Array.isArray(versions) && versions.includes(MODERN_REVISION)) {
    return {
      kind: 'open',
      session: new HttpSession(target, modernHello(discover.reply!.result!), credential, undefined),
    };
  }
  const init = await postMessage(
    target,
    { jsonrpc: '2.0', id: 2, method: 'initialize', params: initializeParams() },
    { credential, headers: { ...opts.headers } },
  );
  const result = init.reply?.result;
  if (init.status >= 300 || !isObject(result)) return { kind: 'refused', exchange: init };
  const hello = legacyHello(result);
  const sessionId = init.headers.get('mcp-session-id') ?? undefined;
  const session = new HttpSession(target, hello, credential, sessionId);
  await postMessage(
    target,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    {
      credential,
      headers: {
        ...opts.headers,
        'mcp-protocol-version': hello.protocolVersion,
        ...(sessionId !== undefined ? { 'mcp-session-id': sessionId } : {}),
      },
    },
  );
  return { kind: 'open', session };
}
