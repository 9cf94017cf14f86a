import type { CustomFetch } from 'openid-client';
import type { EgressGuard } from '../../egress/index.js';

/**
 * openid-client's `customFetch`, answered by the egress guard: discovery, token, revocation,
 * introspection and JWKS requests to an upstream's authorization server all leave through it
 * (https unless the operator allowed http for the host, public addresses judged at connect time,
 * size capped). Each request carries openid-client's own timeout signal and a deadline of ours,
 * whichever ends first; the guard adds its own whole-request deadline on top.
 */
export function guardedFetch(guard: EgressGuard, timeoutMs: number): CustomFetch {
  return async (url, options) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers)) {
      // openid-client names itself; the guard's requests say nothing about the library behind them.
      if (name.toLowerCase() !== 'user-agent') headers[name.toLowerCase()] = value;
    }
    const body = requestBody(options.body, headers);
    const deadline = AbortSignal.timeout(timeoutMs);
    const res = await guard.fetch(url, {
      method: options.method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline,
    });
    // A Response cannot carry a 1xx or a status above 599; openid-client treats it as not conforming.
    const status = res.status >= 200 && res.status <= 599 ? res.status : 502;
    const empty = res.bytes.length === 0 || status === 204 || status === 205 || status === 304;
    return new Response(empty ? null : Buffer.from(res.bytes), { status, headers: res.headers });
  };
}

/**
 * What openid-client sends: a form (token, revocation, introspection) or nothing (GET). Any other
 * kind is an error rather than silently dropped, since a request without its body fails in ways
 * that are hard to trace.
 */
function requestBody(
  body: Parameters<CustomFetch>[1]['body'],
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
  throw new TypeError('upstream-oauth: unsupported request body type');
}
