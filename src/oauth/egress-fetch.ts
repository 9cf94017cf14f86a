import { guardRequestBody, type EgressGuard } from '../egress/index.js';

/**
 * oidc-provider's `fetch` hook, answered by the egress guard. Every outbound request the
 * authorization server makes for a client (Client ID Metadata Documents, client `jwks_uri`,
 * `sector_identifier_uri`) leaves through the guard: https only, public addresses judged at
 * connect time, no redirects, size and time capped. oidc-provider's own dispatcher and
 * signal are ignored — the guard brings its own.
 */
export function egressFetch(
  guard: EgressGuard,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : input;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      if (name !== 'user-agent') headers[name] = value;
    });
    const body = guardRequestBody(init?.body, headers);
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
