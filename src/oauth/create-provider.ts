import { timingSafeEqual } from 'node:crypto';
import Provider, {
  errors,
  interactionPolicy,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import type { Logger } from 'pino';
import type { EgressGuard } from '../egress/index.js';
import { html, renderPage } from '../ui/index.js';
import type { PersonCeilings, UserStore } from '../users/index.js';
import type { OAuthConfig } from './config.js';
import { hashClientSecret } from './client-secret.js';
import { createAdapterClass } from './create-adapter.js';
import { egressFetch } from './egress-fetch.js';
import { roleWithholdsAllCheck, scopesWithinRole } from './scope-ceiling.js';
import { toProviderJwks, type StoredSigningKey } from './signing-keys.js';
import type { OAuthStore } from './store/index.js';

export interface ProviderDeps {
  readonly config: OAuthConfig;
  /** `<public URL>/oauth`. */
  readonly issuer: string;
  /** The canonical MCP URL: the only resource indicator, and the `aud` of every access token. */
  readonly resource: string;
  readonly store: OAuthStore;
  readonly users: UserStore;
  /** People's roles: the ceiling of every token issued for a person (scope-ceiling.ts). */
  readonly people: PersonCeilings;
  readonly signingKeys: readonly StoredSigningKey[];
  readonly cookieKeys: readonly string[];
  /** The guard for client-supplied URLs (metadata documents, jwks_uri). */
  readonly clientGuard: EgressGuard;
  /** The scopes of the tools currently served; the resource server's scopes. */
  readonly toolScopes: () => readonly string[];
  /** Origins allowed to call the token endpoint and friends from a browser (CORS). */
  readonly allowedOrigins: ReadonlySet<string>;
  readonly initialAccessToken: string | undefined;
  /** https public URL: cookies get the `__Secure-`/`__Host-` prefixes. */
  readonly secure: boolean;
  readonly trustProxy: boolean;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** Extra client metadata: the scopes an operator-created client is limited to. */
export const CLIENT_SCOPES_PROPERTY = 'portcullis_scopes';

/** The scopes a client may receive for the MCP resource: its operator limit, if any, within what tools need. */
function resourceScopesFor(
  client: { metadata(): Record<string, unknown> },
  toolScopes: readonly string[],
): string[] {
  const limit = client.metadata()[CLIENT_SCOPES_PROPERTY];
  return Array.isArray(limit) ? toolScopes.filter((s) => (limit as unknown[]).includes(s)) : [...toolScopes];
}

function errorPageHtml(out: { error?: string; error_description?: string }): string {
  return renderPage({
    title: 'This request cannot continue',
    body: html`<h1>This request cannot continue</h1>
      <div class="notice error">${out.error_description ?? 'The request was refused.'}</div>
      <p class="lead">
        The app that sent you here made a request Portcullis cannot accept. Close this page and try again from
        the app; if it keeps happening, tell the app's developer.
      </p>
      <p class="fine">Error code: <span class="mono">${out.error ?? 'invalid_request'}</span></p>`,
  });
}

/**
 * Builds the oidc-provider instance: OAuth 2.1 profile (code + PKCE S256 only, no implicit, no
 * password grant), resource indicators bound to the one MCP URL with JWT access tokens, rotating
 * refresh tokens, revocation, introspection, client credentials, DCR by policy, Client ID
 * Metadata Documents through the egress guard, and no development interactions.
 */
export function createProvider(deps: ProviderDeps): Provider {
  const { config, store, users, resource } = deps;
  const Adapter = createAdapterClass(store, deps.now);
  const prefix = deps.secure ? '__Secure-' : '';
  const registration = config.registration;
  const interactionsPolicy = interactionPolicy.base();
  interactionsPolicy
    .get('consent')!
    .checks.add(roleWithholdsAllCheck((ctx) => resourceScopesFor(ctx.oidc.client!, deps.toolScopes())));

  const configuration: Configuration = {
    adapter: Adapter,
    jwks: toProviderJwks(deps.signingKeys),
    cookies: {
      keys: [...deps.cookieKeys],
      names: {
        session: `${prefix}pcs_oauth_session`,
        interaction: `${prefix}pcs_oauth_interaction`,
        resume: `${prefix}pcs_oauth_resume`,
      },
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    // OAuth 2.1: the authorization code flow only; `id_token` response types are implicit-style.
    responseTypes: ['code'],
    pkce: {
      // OAuth 2.1 §4.1.1 and the MCP authorization spec: PKCE for every client, S256 only (the
      // only method oidc-provider implements; `plain` and a missing challenge are refused).
      required: () => true,
    },
    scopes: ['openid', 'offline_access'],
    claims: { openid: ['sub'] },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
    // HS* client assertions would need the plain secret; secrets are stored hashed.
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
      idTokenSigningAlgValues: ['ES256'],
      requestObjectSigningAlgValues: ['ES256'],
      introspectionSigningAlgValues: ['ES256'],
      authorizationSigningAlgValues: ['ES256'],
      userinfoSigningAlgValues: ['ES256'],
    },
    // OAuth 2.1 §2.3.1: redirect URIs are compared exactly, and one must always be sent.
    allowOmittingSingleRegisteredRedirectUri: false,
    features: {
      devInteractions: { enabled: false },
      // The resource server does not check DPoP proofs; issuing DPoP-bound tokens it would accept
      // as plain bearer tokens would promise a binding nobody enforces.
      dPoP: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      // Every access token is a JWT for the MCP resource; there is no userinfo audience.
      userinfo: { enabled: false },
      // RFC 7009 §2.1 / RFC 7662 §2.1: a client may revoke or introspect only its own tokens;
      // anyone else learns nothing (revocation answers 200 regardless, introspection `active:false`).
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => client.clientId === token.clientId,
      },
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => client.clientId === token.clientId,
      },
      clientCredentials: { enabled: true },
      registration: {
        enabled: registration.policy !== 'off',
        // Registration management (RFC 7592) is not offered; a token for it would be dead weight.
        issueRegistrationAccessToken: false,
        ...(registration.policy === 'initial-access-token' && deps.initialAccessToken
          ? { initialAccessToken: deps.initialAccessToken }
          : {}),
      },
      clientIdMetadataDocument: {
        enabled: config.clientFetch.clientIdMetadataDocuments,
        ack: 'draft-02',
        cacheDuration: { min: 60, max: 3600 },
      },
      resourceIndicators: {
        enabled: true,
        // A client that names no resource still gets a token for the MCP URL, never an
        // audience-less one.
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: async (ctx, indicator, client) => {
          // RFC 8707 §2: a resource the server does not recognise is `invalid_target`.
          if (indicator !== resource) throw new errors.InvalidTarget();
          const scopes = await scopesWithinRole(
            ctx,
            resourceScopesFor(client, deps.toolScopes()),
            deps.people,
          );
          return {
            scope: scopes.join(' '),
            audience: resource,
            accessTokenTTL: config.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    extraClientMetadata: {
      properties: [CLIENT_SCOPES_PROPERTY],
      validator(_ctx, key, value, metadata) {
        if (key !== CLIENT_SCOPES_PROPERTY) return;
        if (value !== undefined && (!Array.isArray(value) || !value.every((s) => typeof s === 'string'))) {
          throw new errors.InvalidClientMetadata(`${CLIENT_SCOPES_PROPERTY} must be an array of strings`);
        }
        // MCP clients register with the scope of the first 401 challenge. oidc-provider would
        // then refuse every later scope, so step-up after a 403 could never succeed. A
        // registered `scope` therefore restricts nothing here (RFC 7591 §2 lets the server
        // replace it): what a client receives is what the person consents to, within the
        // operator's `portcullis_scopes` limit for clients created with the CLI.
        delete (metadata as { scope?: unknown }).scope;
      },
    },
    ttl: {
      AccessToken: config.accessTokenTtlSeconds,
      ClientCredentials: config.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 14 * 86_400,
      Grant: config.grantTtlSeconds,
      RefreshToken: (_ctx, token) => {
        // A rotated chain keeps the lifetime of its first token (`iiat`), so rotation never
        // extends it.
        const age = Math.floor(deps.now().getTime() / 1000) - (token.iiat ?? token.iat ?? 0);
        return Math.max(1, Math.min(config.refreshTokenTtlSeconds, config.refreshTokenTtlSeconds - age));
      },
    },
    // OAuth 2.1 §4.3.1: refresh tokens for public clients are sender-constrained or rotated; we
    // rotate them all. oidc-provider revokes the whole grant when a rotated token is reused.
    rotateRefreshToken: true,
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      // Consent is remembered per person and client, not per browser session.
      const grantId =
        ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const accountId = ctx.oidc.session?.accountId;
      if (!accountId) return undefined;
      const [latest] = await store.listGrants({ accountId, clientId: ctx.oidc.client!.clientId }, deps.now());
      return latest ? ctx.oidc.provider.Grant.find(latest.id) : undefined;
    },
    async extraTokenClaims(_ctx, token) {
      if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
      const user = await users.find(token.accountId);
      // The grant lets the resource server see a revocation on the next call; the tenant is
      // taken from here, never from a tool argument.
      return { grant_id: token.grantId, tenant: user?.tenant ?? token.accountId };
    },
    async findAccount(_ctx, sub) {
      const user = await users.find(sub);
      if (!user || user.disabledAt) return undefined;
      return { accountId: sub, claims: () => ({ sub }) };
    },
    interactions: {
      policy: interactionsPolicy,
      url: (_ctx, interaction) => `/oauth/interaction/${interaction.uid}`,
    },
    clientBasedCORS: (_ctx, origin) => deps.allowedOrigins.has(origin.toLowerCase()),
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPageHtml(out);
    },
    fetch: egressFetch(deps.clientGuard),
    fetchResponseBodyLimits: {
      'client_id metadata document': config.clientFetch.maxBytes,
      jwks_uri: config.clientFetch.maxBytes,
      sector_identifier_uri: config.clientFetch.maxBytes,
    },
  };

  const provider = new Provider(deps.issuer, configuration);
  provider.proxy = deps.trustProxy;

  // Client secrets issued by the CLI or by registration are stored as SHA-256 hashes (see the
  // adapter); compare in constant time against the hash of what the client presented.
  provider.Client.prototype.compareClientSecret = function compareClientSecret(
    this: { clientSecret?: string },
    actual: string,
  ) {
    const stored = this.clientSecret ?? '';
    const presented = stored.startsWith('sha256$') ? hashClientSecret(actual) : actual;
    const a = Buffer.from(stored);
    const b = Buffer.from(presented);
    return Promise.resolve(a.length === b.length && timingSafeEqual(a, b));
  };

  provider.on('server_error', (_ctx, err) => deps.logger.error({ err }, 'oauth server error'));
  provider.on('grant.revoked', (_ctx, grantId) => deps.logger.info({ grantId }, 'oauth grant revoked'));
  return provider;
}
