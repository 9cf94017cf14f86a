import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { UpstreamOAuthResult, UpstreamTokenSet } from '../upstream-oauth-contract.js';
import { unavailable } from './failure.js';

type TokenResponse = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

/**
 * The upstream subject, in order of how much it is vouched for:
 *
 * 1. the ID token's `sub` (scope `openid`): openid-client has checked its signature against the
 *    AS's JWKS (non-repudiation checks on), `iss`, `aud` = our client id and expiry;
 * 2. a JWT access token's `sub`, when its `iss` is the AS: the token arrived in the token
 *    endpoint's own answer to an authenticated request, so its claims are the AS's word as much
 *    as the rest of that answer (the gateway is not its audience and does not verify it as one);
 * 3. token introspection (RFC 7662) of the access token, when the AS offers it;
 * 4. unknown: an AS that says none of these leaves the connection without a named identity.
 *
 * The subject labels the connection and the audit record; it authorises nothing by itself.
 */
async function subjectOf(
  response: TokenResponse,
  config: oidc.Configuration,
  issuer: string,
): Promise<string | undefined> {
  const fromIdToken = response.claims()?.sub;
  if (fromIdToken) return fromIdToken;
  if (response.access_token.split('.').length === 3) {
    try {
      const claims = decodeJwt(response.access_token);
      if (claims.iss === issuer && typeof claims.sub === 'string' && claims.sub) return claims.sub;
    } catch {
      // Not a JWT after all: an opaque token with dots in it.
    }
  }
  if (!config.serverMetadata().introspection_endpoint) return undefined;
  try {
    const info = await oidc.tokenIntrospection(config, response.access_token);
    return info.active && typeof info.sub === 'string' && info.sub ? info.sub : undefined;
  } catch {
    // Introspection is a nicety; a failing one does not fail the token set.
    return undefined;
  }
}

/**
 * The contract's token set from a token endpoint response. RFC 6749 §5.1: a missing `scope`
 * means the scopes asked for; §6: a refresh answer without a new refresh token means the old
 * one stays valid, so it is carried over and the caller simply stores what comes back.
 */
export async function readTokenResponse(
  response: TokenResponse,
  context: {
    readonly config: oidc.Configuration;
    readonly issuer: string;
    readonly asked: readonly string[];
    readonly now: number;
    readonly previousRefreshToken?: string;
  },
): Promise<UpstreamOAuthResult<UpstreamTokenSet>> {
  if (typeof response.access_token !== 'string' || response.access_token === '') {
    return unavailable('token response: no access token');
  }
  const lifetime = response.expiresIn();
  const refreshToken = response.refresh_token ?? context.previousRefreshToken;
  const subject = await subjectOf(response, context.config, context.issuer);
  return {
    ok: true,
    value: {
      accessToken: response.access_token,
      ...(refreshToken ? { refreshToken } : {}),
      ...(lifetime !== undefined ? { expiresAt: context.now + lifetime * 1000 } : {}),
      scopes: response.scope !== undefined ? response.scope.split(' ').filter(Boolean) : [...context.asked],
      ...(subject ? { subject } : {}),
    },
  };
}
