/**
 * The one table from what went wrong to how it is said on the wire: the HTTP status and the
 * JSON-RPC error code. Nothing else in the gateway writes a status or a JSON-RPC code as a
 * number; the renderers (responses.ts) read this table.
 */

/** JSON-RPC 2.0 §5.1 codes, and the server-defined ones MCP and its SDK use. */
export const JSON_RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** §5.1 "Server error" range; the SDK answers 406, 415 and session caps with it. */
  serverError: -32000,
  /** What MCP clients and the SDK's transport send with 401 and with 404 session-not-found. */
  unauthorized: -32001,
  forbidden: -32003,
  /** SEP-2243 `HeaderMismatch`: headers absent or disagreeing with the body; HTTP 400. */
  headerMismatch: -32020,
  /** 2026-07-28 `MissingRequiredClientCapability`: the call needs a capability not declared; HTTP 400. */
  missingCapability: -32021,
  /** The SDK's `ProtocolErrorCode.UnsupportedProtocolVersion` (a 2026-07-28 revision not served). */
  unsupportedProtocolVersion: -32022,
  rateLimited: -32029,
} as const;

/**
 * Each wire code once. Distinct meanings get distinct codes even where the MCP spec and SDK
 * fix the same wire values (authentication and session-not-found are both -32001).
 */
export const WIRE_CODES = {
  'parse-error': { status: 400, jsonRpc: JSON_RPC.parseError },
  /** A well-formed request whose params name nothing the caller may use; answered in-band. */
  'invalid-params': { status: 200, jsonRpc: JSON_RPC.invalidParams },
  'bad-request': { status: 400, jsonRpc: JSON_RPC.invalidRequest },
  'header-mismatch': { status: 400, jsonRpc: JSON_RPC.headerMismatch },
  'unsupported-revision': { status: 400, jsonRpc: JSON_RPC.unsupportedProtocolVersion },
  'body-too-large': { status: 413, jsonRpc: JSON_RPC.invalidRequest },
  'unsupported-media-type': { status: 415, jsonRpc: JSON_RPC.serverError },
  'not-acceptable': { status: 406, jsonRpc: JSON_RPC.serverError },
  unauthenticated: { status: 401, jsonRpc: JSON_RPC.unauthorized },
  'insufficient-scope': { status: 403, jsonRpc: JSON_RPC.forbidden },
  /** Host or Origin refused (DNS rebinding, cross-site requests). */
  'forbidden-request': { status: 403, jsonRpc: JSON_RPC.invalidRequest },
  'session-not-found': { status: 404, jsonRpc: JSON_RPC.unauthorized },
  'not-found': { status: 404, jsonRpc: JSON_RPC.methodNotFound },
  'rate-limited': { status: 429, jsonRpc: JSON_RPC.rateLimited },
  internal: { status: 500, jsonRpc: JSON_RPC.internalError },
  /** The audit log cannot commit: the call did not run; retry after the wait. */
  'audit-unavailable': { status: 503, jsonRpc: JSON_RPC.internalError },
  /** The database cannot be reached: nothing was run; retry after the wait (another replica may serve it). */
  'storage-unavailable': { status: 503, jsonRpc: JSON_RPC.internalError },
  'too-many-sessions': { status: 503, jsonRpc: JSON_RPC.serverError },
  /** A 2025 session's answer to a server request that this replica did not ask (no affinity). */
  'answer-misrouted': { status: 409, jsonRpc: JSON_RPC.invalidRequest },
} as const satisfies Record<string, { readonly status: number; readonly jsonRpc: number }>;

export type WireCode = keyof typeof WIRE_CODES;

/** HTTP statuses that carry no JSON-RPC error (plain answers), by meaning. */
export const HTTP_STATUS = {
  ok: 200,
  badRequest: 400,
  forbidden: 403,
  notFound: 404,
  lengthRequired: 411,
  contentTooLarge: 413,
  serviceUnavailable: 503,
  /**
   * A client that went away mid-request gets no answer; this status only labels the request in
   * metrics and logs ("client closed request", as proxies count it), never as a 5xx.
   */
  clientClosedRequest: 499,
} as const;
