/**
 * The contract between the connections capability (vault, store, pages, call-time injection) and
 * the gateway's OAuth client of an upstream's authorization server (upstream-oauth/). The
 * connections side decides who may connect and keeps what comes back; the OAuth side only speaks
 * the protocols: RFC 9728 + RFC 8414 discovery, authorization code with PKCE (RFC 7636) and
 * `resource` (RFC 8707), refresh with rotation, revocation (RFC 7009) and token exchange
 * (RFC 8693). Every request goes out through the egress guard the caller hands in.
 */

/** How one upstream's authorization server is found and how the gateway is registered there. */
export interface UpstreamOAuthSettings {
  /** The upstream's name in portcullis.yaml (for errors and logs). */
  readonly upstream: string;
  /** The upstream MCP server's URL: the RFC 8707 `resource`, and where RFC 9728 metadata is found. */
  readonly resource: string;
  /** The AS issuer; when absent it is discovered from the resource's RFC 9728 metadata. */
  readonly issuer?: string;
  readonly clientId: string;
  /** Resolved client secret (confidential client); absent for a public client (PKCE only). */
  readonly clientSecret?: string;
  /** The minimum scopes the operator listed; exactly these are requested. */
  readonly scopes: readonly string[];
}

/** What the gateway keeps between sending the person to the AS and the callback. Never sent to the browser. */
export interface PendingAuthorization {
  readonly state: string;
  readonly codeVerifier: string;
  readonly redirectUri: string;
  /** The issuer the request went to (RFC 9207 `iss` on the callback is checked against it). */
  readonly issuer: string;
}

/** Tokens an upstream AS issued for one person. The access token's `expiresAt` drives refresh. */
export interface UpstreamTokenSet {
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** Epoch ms; undefined when the AS did not say. */
  readonly expiresAt?: number;
  /** Scopes granted (may be fewer than asked). */
  readonly scopes: readonly string[];
  /** The upstream identity the tokens act as (`sub` of an ID token or introspection), if known. */
  readonly subject?: string;
}

export type UpstreamOAuthFailure =
  /** The AS refused (invalid_grant, revoked refresh token, consent denied): reconnect needed. */
  | { readonly ok: false; readonly reason: 'refused'; readonly detail: string }
  /** The AS could not be reached or answered nonsense: try again later, keep the connection. */
  | { readonly ok: false; readonly reason: 'unavailable'; readonly detail: string }
  /** The callback did not match the pending request (state, issuer, missing code). */
  | { readonly ok: false; readonly reason: 'mismatch'; readonly detail: string };

export type UpstreamOAuthResult<T> = { readonly ok: true; readonly value: T } | UpstreamOAuthFailure;

export interface UpstreamOAuthClient {
  /** Builds the URL to send the person to, with PKCE S256, `state`, `resource` and the scopes. */
  beginAuthorization(
    settings: UpstreamOAuthSettings,
    redirectUri: string,
  ): Promise<UpstreamOAuthResult<{ url: string; pending: PendingAuthorization }>>;
  /** Checks the callback against the pending request and redeems the code. */
  completeAuthorization(
    settings: UpstreamOAuthSettings,
    pending: PendingAuthorization,
    callback: URL,
  ): Promise<UpstreamOAuthResult<UpstreamTokenSet>>;
  /** Redeems a refresh token; a rotated refresh token comes back in the new set. */
  refresh(
    settings: UpstreamOAuthSettings,
    refreshToken: string,
  ): Promise<UpstreamOAuthResult<UpstreamTokenSet>>;
  /** RFC 7009 revocation where the AS offers it; `false` when it does not. */
  revoke(settings: UpstreamOAuthSettings, token: string): Promise<UpstreamOAuthResult<boolean>>;
  /** RFC 8693: exchanges a subject token (the caller's Portcullis token or IdP token) for an upstream token. */
  exchangeToken(
    settings: UpstreamOAuthSettings,
    subject: { readonly token: string; readonly tokenType: string },
  ): Promise<UpstreamOAuthResult<UpstreamTokenSet>>;
}
