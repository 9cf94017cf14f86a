import type { EgressGuard } from '../egress/index.js';
import type { HttpAuth } from './http-channel.js';
import { UpstreamError } from './errors.js';

export type ResolvedHttpAuth =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'header'; readonly name: string; readonly value: string }
  | {
      readonly kind: 'client-credentials';
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scope?: string;
      readonly resource?: string;
    };

/**
 * The gateway's own credential for one HTTP upstream, as request headers. Client credentials
 * (RFC 6749 §4.4) are exchanged through the egress guard and cached until shortly before they
 * expire; `onToken` lets the redactor learn each new access token.
 */
export function createHttpAuth(
  auth: ResolvedHttpAuth,
  deps: { guard: EgressGuard; upstream: string; now: () => number; onToken: (token: string) => void },
): HttpAuth {
  if (auth.kind === 'bearer')
    return { headers: async () => ({ authorization: `Bearer ${auth.token}` }), invalidate() {} };
  if (auth.kind === 'header')
    return { headers: async () => ({ [auth.name.toLowerCase()]: auth.value }), invalidate() {} };

  let cached: { token: string; expiresAt: number } | undefined;
  let inflight: Promise<string> | undefined;
  const fetchToken = async (signal?: AbortSignal): Promise<string> => {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope) form.set('scope', auth.scope);
    if (auth.resource) form.set('resource', auth.resource);
    // RFC 6749 §2.3.1: client_id and secret form-encoded, then Basic.
    const basic = Buffer.from(
      `${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`,
    ).toString('base64');
    const res = await deps.guard.fetch(auth.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      ...(signal ? { signal } : {}),
    });
    let body: { access_token?: unknown; expires_in?: unknown; token_type?: unknown } = {};
    try {
      body = JSON.parse(res.text()) as typeof body;
    } catch {
      // handled below
    }
    if (res.status !== 200 || typeof body.access_token !== 'string' || body.access_token === '') {
      throw new UpstreamError(
        'upstream-unavailable',
        `The gateway could not obtain a token for "${deps.upstream}".`,
        {
          detail: `token endpoint answered HTTP ${res.status}`,
        },
      );
    }
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 300;
    // Renew a little early so a token does not expire in flight.
    cached = {
      token: body.access_token,
      expiresAt: deps.now() + Math.max(lifetime - 30, lifetime / 2) * 1000,
    };
    deps.onToken(body.access_token);
    return body.access_token;
  };

  return {
    async headers(signal) {
      if (!cached || cached.expiresAt <= deps.now()) {
        inflight ??= fetchToken(signal).finally(() => (inflight = undefined));
        await inflight;
      }
      return { authorization: `Bearer ${cached!.token}` };
    },
    invalidate() {
      cached = undefined;
    },
  };
}
