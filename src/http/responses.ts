import { refusalHeaders, refusalMessage, type RateLimitRefusal } from '../ratelimit/index.js';

/**
 * The one place HTTP error responses are shaped. JSON-RPC-level errors on /mcp carry a
 * JSON-RPC error body so MCP clients can show them; OAuth-style challenges follow RFC 6750.
 */

type JsonRpcId = string | number | null;

/**
 * A client that went away mid-request gets no answer; this status only labels the request in
 * metrics and logs ("client closed request", as proxies count it), never as a 5xx.
 */
export const CLIENT_CLOSED_REQUEST = 499;

export function jsonRpcErrorResponse(
  status: number,
  code: number,
  message: string,
  opts: { id?: JsonRpcId; headers?: Record<string, string> } = {},
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: opts.id ?? null, error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json', ...opts.headers },
  });
}

/** 429 with Retry-After and the IETF RateLimit fields; the message states the wait for a model. */
export function rateLimitedResponse(refusal: RateLimitRefusal, id: JsonRpcId): Response {
  return jsonRpcErrorResponse(429, -32029, refusalMessage(refusal), { id, headers: refusalHeaders(refusal) });
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
  return jsonRpcErrorResponse(
    401,
    -32001,
    opts.missing ? 'Authentication required.' : 'Invalid credential.',
    {
      headers: { 'www-authenticate': `Bearer ${params.join(', ')}` },
    },
  );
}

/** 403 with a step-up challenge naming the scope the call needs (RFC 6750 §3.1). */
export function insufficientScopeResponse(opts: { id: JsonRpcId; scope: string; tool: string }): Response {
  const description = `The ${opts.tool} tool requires the scope ${opts.scope}`;
  return jsonRpcErrorResponse(403, -32003, `Forbidden: ${description}; this credential does not have it.`, {
    id: opts.id,
    headers: {
      'www-authenticate': `Bearer realm="portcullis", error="insufficient_scope", scope=${quote(opts.scope)}, error_description=${quote(description)}`,
    },
  });
}
