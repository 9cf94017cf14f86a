import * as oidc from 'openid-client';
import type { EgressGuard } from '../../egress/index.js';
import type {
  UpstreamOAuthClient,
  UpstreamOAuthResult,
  UpstreamOAuthSettings,
} from '../upstream-oauth-contract.js';
import { checkCallback } from './check-callback.js';
import { createDiscoveryCache, discoverServer, insecureFor, type DiscoveredServer } from './discover.js';
import { mismatch, toFailure, unavailable } from './failure.js';
import { guardedFetch } from './guarded-fetch.js';
import { readTokenResponse } from './read-token-response.js';

/** RFC 8693 §2.1 and §3. */
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface UpstreamOAuthClientOptions {
  /** The one way out: every request to an upstream's AS and resource metadata goes through it. */
  readonly guard: EgressGuard;
  /** Deadline of each request (on top of the guard's own). Default 10 s. */
  readonly timeoutMs?: number;
  /** How long a discovered AS is kept per upstream. Default 5 minutes. */
  readonly discoveryTtlMs?: number;
  readonly now?: () => number;
}

/**
 * The client authentication the AS will take (RFC 8414 §2: absent
 * `token_endpoint_auth_methods_supported` means `client_secret_basic`). A public client (no
 * secret) authenticates with nothing but PKCE.
 */
function clientAuth(metadata: oidc.ServerMetadata, secret: string | undefined): oidc.ClientAuth {
  if (secret === undefined) return oidc.None();
  const supported = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  return supported.includes('client_secret_basic') || !supported.includes('client_secret_post')
    ? oidc.ClientSecretBasic(secret)
    : oidc.ClientSecretPost(secret);
}

/**
 * The gateway as an OAuth 2.1 client of upstreams' authorization servers, on openid-client.
 * Nothing here throws across the interface: every outcome is a tagged result whose `detail` is
 * for logs only (it never holds a token, code or secret).
 */
export function createUpstreamOAuthClient(options: UpstreamOAuthClientOptions): UpstreamOAuthClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? Date.now;
  const fetch = guardedFetch(options.guard, timeoutMs);
  const cached = createDiscoveryCache(options.discoveryTtlMs ?? 5 * 60_000, now);
  const discover = (settings: UpstreamOAuthSettings) =>
    cached(settings, () => discoverServer(settings, { guard: options.guard, fetch, timeoutMs }));

  function configure(settings: UpstreamOAuthSettings, server: DiscoveredServer): oidc.Configuration {
    const config = new oidc.Configuration(
      server.metadata,
      settings.clientId,
      settings.clientSecret === undefined ? undefined : { client_secret: settings.clientSecret },
      clientAuth(server.metadata, settings.clientSecret),
    );
    config[oidc.customFetch] = fetch;
    config.timeout = Math.ceil(timeoutMs / 1000);
    for (const extension of insecureFor(server.issuer)) extension(config);
    // ID tokens are checked against the AS's published keys, not only trusted for the channel
    // they came over (OIDC Core §3.1.3.7 would allow skipping the signature over TLS).
    if (server.metadata.jwks_uri) oidc.enableNonRepudiationChecks(config);
    return config;
  }

  /** Discovery, then the step; anything the step throws becomes a tagged failure. */
  async function withServer<T>(
    settings: UpstreamOAuthSettings,
    step: string,
    run: (config: oidc.Configuration, server: DiscoveredServer) => Promise<UpstreamOAuthResult<T>>,
  ): Promise<UpstreamOAuthResult<T>> {
    try {
      const server = await discover(settings);
      if (!server.ok) return server;
      return await run(configure(settings, server.value), server.value);
    } catch (err) {
      return toFailure(err, step);
    }
  }

  const tokenSet = (
    config: oidc.Configuration,
    server: DiscoveredServer,
    settings: UpstreamOAuthSettings,
    response: Parameters<typeof readTokenResponse>[0],
    previousRefreshToken?: string,
  ) =>
    readTokenResponse(response, {
      config,
      issuer: server.issuer,
      asked: settings.scopes,
      now: now(),
      ...(previousRefreshToken ? { previousRefreshToken } : {}),
    });

  return {
    beginAuthorization(settings, redirectUri) {
      return withServer(settings, 'authorization request', async (config, server) => {
        const state = oidc.randomState();
        const codeVerifier = oidc.randomPKCECodeVerifier();
        const url = oidc.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          response_type: 'code',
          // Exactly the operator's scopes, nothing added (no offline_access unless listed).
          ...(settings.scopes.length > 0 ? { scope: settings.scopes.join(' ') } : {}),
          code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
          code_challenge_method: 'S256',
          state,
          // RFC 8707 §2.1: the token is for this upstream only (the MCP authorization spec
          // requires `resource` on both the authorization and the token request).
          resource: settings.resource,
        });
        return {
          ok: true,
          value: { url: url.href, pending: { state, codeVerifier, redirectUri, issuer: server.issuer } },
        };
      });
    },

    completeAuthorization(settings, pending, callback) {
      return withServer(settings, 'code redemption', async (config, server) => {
        const checked = checkCallback(pending, callback.searchParams, {
          issuer: server.issuer,
          issParameterSupported: server.metadata.authorization_response_iss_parameter_supported === true,
        });
        if (!checked.ok) return checked;
        // The redirect URI sent at the token endpoint is the one the request named (RFC 6749
        // §4.1.3), whatever URL the caller reconstructed the callback from.
        const current = new URL(pending.redirectUri);
        current.search = callback.search;
        let response;
        try {
          response = await oidc.authorizationCodeGrant(
            config,
            current,
            {
              pkceCodeVerifier: pending.codeVerifier,
              expectedState: pending.state,
              idTokenExpected: settings.scopes.includes('openid'),
            },
            { resource: settings.resource },
          );
        } catch (err) {
          const failure = toFailure(err, 'code redemption');
          // A code this request's verifier cannot redeem was issued for another request (or is
          // spent or expired): the callback does not belong to this pending authorization.
          if (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant') {
            return mismatch(failure.detail);
          }
          return failure;
        }
        return tokenSet(config, server, settings, response);
      });
    },

    refresh(settings, refreshToken) {
      return withServer(settings, 'refresh', async (config, server) => {
        // RFC 8707 §2.2: the refreshed access token is again for this upstream only. No `scope`:
        // the grant's scopes stay what the person consented to.
        const response = await oidc.refreshTokenGrant(config, refreshToken, { resource: settings.resource });
        return tokenSet(config, server, settings, response, refreshToken);
      });
    },

    revoke(settings, token) {
      return withServer(settings, 'revocation', async (config) => {
        if (!config.serverMetadata().revocation_endpoint) return { ok: true, value: false };
        // RFC 7009 §2.2: 200 whether or not the token was valid; errors are thrown.
        await oidc.tokenRevocation(config, token);
        return { ok: true, value: true };
      });
    },

    exchangeToken(settings, subject) {
      return withServer(settings, 'token exchange', async (config, server) => {
        const response = await oidc.genericGrantRequest(config, TOKEN_EXCHANGE, {
          subject_token: subject.token,
          subject_token_type: subject.tokenType,
          requested_token_type: ACCESS_TOKEN_TYPE,
          resource: settings.resource,
          ...(settings.scopes.length > 0 ? { scope: settings.scopes.join(' ') } : {}),
        });
        // RFC 8693 §2.2.1: `issued_token_type` is REQUIRED; anything but an access token (an ID
        // token, a SAML assertion) is not something to send as a bearer token upstream.
        if (response.issued_token_type !== ACCESS_TOKEN_TYPE) {
          return unavailable(
            `token exchange: issued_token_type ${JSON.stringify(response.issued_token_type)}`,
          );
        }
        return tokenSet(config, server, settings, response);
      });
    },
  };
}
