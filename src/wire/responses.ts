import { refusalHeaders, refusalMessage, type RateLimitRefusal } from '../ratelimit/index.js';
import { HTTP_STATUS, WIRE_CODES, type WireCode } from './codes.js';

/**
 * The one place HTTP error responses are shaped. JSON-RPC-level errors on /mcp carry a
 * JSON-RPC error body so MCP clients can show them; OAuth-style challenges follow RFC 6750.
 */

export type JsonRpcId = string | number | null;

/** The status that labels a request whose client went away (codes.ts). */
export const CLIENT_CLOSED_REQUEST = HTTP_STATUS.clientClosedRequest;

export function jsonRpcErrorResponse(
  status: number,
  code: number,
  message: string,
  opts: { id?: JsonRpcId; headers?: Record<string, string>; data?: unknown } = {},
): Response {
  const error = opts.data === undefined ? { code, message } : { code, message, data: opts.data };
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: opts.id ?? null, error }), {
    status,
    headers: { 'content-type': 'application/json', ...opts.headers },
  });
}

/** A JSON-RPC error response for one wire code of the table (codes.ts). */
export function wireErrorResponse(
  code: WireCode,
  message: string,
  opts: { id?: JsonRpcId; headers?: Record<string, string> } = {},
): Response {
  const { status, jsonRpc } = WIRE_CODES[code];
  return jsonRpcErrorResponse(status, jsonRpc, message, opts);
}

/** 429 with Retry-After and the IETF RateLimit fields; the message states the wait for a model. */
export function rateLimitedResponse(refusal: RateLimitRefusal, id: JsonRpcId): Response {
  return wireErrorResponse('rate-limited', refusalMessage(refusal), { id, headers: refusalHeaders(refusal) });
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

/**
 * 401 for /mcp. A request with no credential gets a bare challenge (RFC 6750 §3.1: no error
 * code when the request lacked authentication information); any bad credential gets the one
 * generic `invalid_token`, whatever the private reason.
 */
export function unauthorizedResponse(opts: { missing: boolean }): Response {
  const params = ['realm="portcullis"'];
  if (!opts.missing) {
    params.push('error="invalid_token"', 'error_description="The credential is invalid, expired or revoked"');
  }
  return wireErrorResponse(
    'unauthenticated',
    opts.missing ? 'Authentication required.' : 'Invalid credential.',
    {
      headers: { 'www-authenticate': `Bearer ${params.join(', ')}` },
    },
  );
}

/** 403 with a step-up challenge naming the scope the call needs (RFC 6750 §3.1). */
export function insufficientScopeResponse(opts: { id: JsonRpcId; scope: string; tool: string }): Response {
  const description = `The ${opts.tool} tool requires the scope ${opts.scope}`;
  return wireErrorResponse(
    'insufficient-scope',
    `Forbidden: ${description}; this credential does not have it.`,
    {
      id: opts.id,
      headers: {
        'www-authenticate': `Bearer realm="portcullis", error="insufficient_scope", scope=${quote(opts.scope)}, error_description=${quote(description)}`,
      },
    },
  );
}
