import type { EgressGuard } from '../egress/index.js';

/**
 * oidc-provider's `fetch` hook, answered by the egress guard. Every outbound request the
 * authorization server makes for a client (Client ID Metadata Documents, client `jwks_uri`,
 * `sector_identifier_uri`) leaves through the guard: https only, public addresses judged at
 * connect time, no redirects, size and time capped. oidc-provider's own dispatcher and
 * signal are ignored — the guard brings its own.
 */
/**
 * The body as the guard takes it. A form (URLSearchParams, what OAuth token requests send)
 * becomes its urlencoded string with the matching content type. A body of any other kind is an
 * error rather than silently dropped: a request sent without its body fails in ways that are
 * hard to trace (an IdP's token endpoint answering "invalid_request").
 */
function requestBody(
  body: RequestInit['body'],
  headers: Record<string, string>,
): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('egress fetch: unsupported request body type');
}

export function egressFetch(
  guard: EgressGuard,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : input;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      if (name !== 'user-agent') headers[name] = value;
    });
    const body = requestBody(init?.body, headers);
    const res = await guard.fetch(url, {
      method: init?.method ?? 'GET',
      headers,
      ...(body === undefined ? {} : { body }),
    });
    return new Response(res.bytes.length > 0 ? Buffer.from(res.bytes) : null, {
      status: res.status,
      headers: res.headers,
    });
  };
}
