/**
 * What a scan needs from an MCP connection, whatever carries it: one request at a time, with its
 * reply or error, and (for HTTP) the raw status and headers the checks read. The scanner's own
 * small client rather than the SDK's: every limit (deadline, size, page count) is ours, and a
 * hostile server's odd answers are data to report, not exceptions thrown from inside a library.
 */

/** The revision of the stateless era, and the 2025 revisions offered at initialize (newest first). */
export const MODERN_REVISION = '2026-07-28';
export const LEGACY_REVISION = '2025-11-25';

export const CLIENT_INFO = { name: 'portcullis-scan', version: '0.1.0' } as const;

export interface RpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export interface RpcReply {
  readonly result?: Record<string, unknown>;
  readonly error?: RpcError;
  /** HTTP only: what the server answered on the wire. */
  readonly status?: number;
  readonly headers?: Headers;
}

export interface ServerHello {
  readonly era: 'modern' | 'legacy';
  readonly protocolVersion: string;
  readonly serverInfo?: { readonly name?: string; readonly version?: string };
  readonly capabilities: Readonly<Record<string, unknown>>;
  readonly instructions?: string;
}

export interface Session {
  readonly transport: 'http' | 'stdio';
  readonly hello: ServerHello;
  /** Sends one request; throws ScanError when the transport fails or the deadline passes. */
  request(method: string, params?: Record<string, unknown>): Promise<RpcReply>;
  close(): Promise<void>;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The parts of a JSON-RPC response the scanner reads, or undefined when it is none. */
export function asReply(message: unknown, id: number): Pick<RpcReply, 'result' | 'error'> | undefined {
  if (!isObject(message) || message.id !== id) return undefined;
  if (isObject(message.result)) return { result: message.result };
  const error = message.error;
  if (isObject(error)) {
    return {
      error: {
        code: typeof error.code === 'number' ? error.code : 0,
        message: typeof error.message === 'string' ? error.message : '',
        ...(error.data !== undefined ? { data: error.data } : {}),
      },
    };
  }
  return undefined;
}

/** The hello of a 2025 initialize result. */
export function legacyHello(result: Record<string, unknown>): ServerHello {
  const info = isObject(result.serverInfo) ? result.serverInfo : {};
  return {
    era: 'legacy',
    protocolVersion: typeof result.protocolVersion === 'string' ? result.protocolVersion : LEGACY_REVISION,
    serverInfo: {
      ...(typeof info.name === 'string' ? { name: info.name } : {}),
      ...(typeof info.version === 'string' ? { version: info.version } : {}),
    },
    capabilities: isObject(result.capabilities) ? result.capabilities : {},
    ...(typeof result.instructions === 'string' ? { instructions: result.instructions } : {}),
  };
}

/** The hello of a 2026-07-28 `server/discover` result. */
export function modernHello(result: Record<string, unknown>): ServerHello {
  const meta = isObject(result._meta) ? result._meta : {};
  const info = isObject(meta['io.modelcontextprotocol/serverInfo'])
    ? meta['io.modelcontextprotocol/serverInfo']
    : {};
  return {
    era: 'modern',
    protocolVersion: MODERN_REVISION,
    serverInfo: {
      ...(typeof info.name === 'string' ? { name: info.name } : {}),
      ...(typeof info.version === 'string' ? { version: info.version } : {}),
    },
    capabilities: isObject(result.capabilities) ? result.capabilities : {},
    ...(typeof result.instructions === 'string' ? { instructions: result.instructions } : {}),
  };
}

export const initializeParams = () => ({
  protocolVersion: LEGACY_REVISION,
  // No capabilities: the scanner answers no sampling, roots or elicitation request.
  capabilities: {},
  clientInfo: CLIENT_INFO,
});
