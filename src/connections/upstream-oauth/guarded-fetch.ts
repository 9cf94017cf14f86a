import type { CustomFetch } from 'openid-client';
import { createEgressGuard, EgressError, guardRequestBody, type EgressGuard } from '../../egress/index.js';

export interface UpstreamOAuthEgressOptions {
  /** Hosts an upstream's AS may be on. Default `['*']`: any host with a public address. */
  readonly allowHosts?: readonly string[];
  /** Hosts reachable over plain http (development, loopback test fixtures). Default none. */
  readonly allowHttpHosts?: readonly string[];
  /** Internal CIDRs the operator deliberately allows (an AS inside the network). Default none. */
  readonly allowAddresses?: readonly string[];
  /** Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * The egress guard for the upstream OAuth client: redirects are never followed (RFC 6749 gives
 * token, revocation and introspection endpoints no redirects, and a 307 would resend the form —
 * a code, a refresh token, a `client_secret_post` secret — to wherever it points), bodies are
 * capped at 256 KiB (metadata and token responses are small), public addresses only unless the
 * operator allows more.
 */
export function createUpstreamOAuthGuard(options: UpstreamOAuthEgressOptions = {}): EgressGuard {
  return createEgressGuard({
    allowHosts: options.allowHosts ?? ['*'],
    allowHttpHosts: options.allowHttpHosts ?? [],
    allowAddresses: options.allowAddresses ?? [],
    maxRedirects: 0,
    maxBytes: 256 * 1024,
    timeoutMs: options.timeoutMs ?? 10_000,
  });
}

/**
 * openid-client's `customFetch`, answered by the egress guard: discovery, token, revocation,
 * introspection and JWKS requests to an upstream's authorization server all leave through it
 * (https unless the operator allowed http for the host, public addresses judged at connect time,
 * size capped). Each request carries openid-client's own timeout signal and a deadline of ours,
 * whichever ends first; the guard adds its own whole-request deadline on top. The guard should
 * be one from createUpstreamOAuthGuard (no redirects).
 */
export function guardedFetch(guard: EgressGuard, timeoutMs: number): CustomFetch {
  return async (url, options) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers)) {
      // openid-client names itself; the guard's requests say nothing about the library behind them.
      if (name.toLowerCase() !== 'user-agent') headers[name.toLowerCase()] = value;
    }
    const body = guardRequestBody(options.body, headers);
    const deadline = AbortSignal.timeout(timeoutMs);
    const res = await guard.fetch(url, {
      method: options.method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline,
    });
    // openid-client asks for `redirect: 'manual'`. A guard that followed one anyway (built with
    // maxRedirects above 0) has already resent the request; its answer is at least not used.
    if (res.finalUrl !== new URL(url).href) {
      throw new EgressError(
        'egress-too-many-redirects',
        'The authorization server answered with a redirect, which OAuth requests do not follow.',
        { detail: `redirected from ${new URL(url).origin}` },
      );
    }
    // A Response cannot carry a 1xx or a status above 599; openid-client treats it as not conforming.
    const status = res.status >= 200 && res.status <= 599 ? res.status : 502;
    const empty = res.bytes.length === 0 || status === 204 || status === 205 || status === 304;
    return new Response(empty ? null : Buffer.from(res.bytes), { status, headers: res.headers });
  };
}
