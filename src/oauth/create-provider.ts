import { timingSafeEqual } from 'node:crypto';
import Provider, {
  errors,
  interactionPolicy,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import type { Logger } from 'pino';
import type { EgressGuard } from '../egress/index.js';
import { isStorageOutage, STORAGE_RETRY_AFTER_SECONDS } from '../storage/index.js';
import { html, renderPage } from '../ui/index.js';
import type { PersonCeilings, UserStore } from '../users/index.js';
import type { OAuthConfig } from './config.js';
import { checkSelfAssertedMetadata } from './check-client-metadata.js';
import {
  CLIENT_CREATED_BY_PROPERTY,
  CLIENT_SCOPES_PROPERTY,
  clientScopeLimit,
  isOperatorClient,
  SERVER_SIDE_PROPERTIES,
} from './client-metadata.js';
import { hashClientSecret } from './client-secret.js';
import { createAdapterClass } from './create-adapter.js';
import { defaultScopes } from './default-scope.js';
import { egressFetch } from './egress-fetch.js';
import type { ClientEvent } from './record-client-event.js';
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
  /** The scopes a request without `scope` may default to (see default-scope.ts). */
  readonly defaultScopeCandidates: () => readonly string[];
  /** Writes the audit record of a registration, a metadata document's first use, or a refusal. */
  readonly recordClientEvent: (event: ClientEvent) => Promise<void>;
  /** Origins allowed to call the token endpoint and friends from a browser (CORS). */
  readonly allowedOrigins: ReadonlySet<string>;
  readonly initialAccessToken: string | undefined;
  /** https public URL: cookies get the `__Secure-`/`__Host-` prefixes. */
  readonly secure: boolean;
  readonly trustProxy: boolean;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** oidc-provider's own scopes; everything else is a resource-server (tool) scope. */
const STATIC_SCOPES = ['openid', 'offline_access'];

/**
 * The scopes a client may receive for the MCP resource: its operator limit, if any, within what
 * tools need. A client-credentials token acts for no person, so without an explicit operator
 * limit it gets no tool scope at all.
 */
function resourceScopesFor(
  client: { metadata(): Record<string, unknown> },
  toolScopes: readonly string[],
  grant: 'client_credentials' | 'person',
): string[] {
  const limit = clientScopeLimit(client.metadata());
  if (limit) return toolScopes.filter((s) => limit.includes(s));
  return grant === 'client_credentials' ? [] : [...toolScopes];
}

function invalidScope(description: string, offered: readonly string[]) {
  const err = new errors.InvalidScope(description, offered.join(' '));
  if (offered.length === 0) delete (err as { scope?: string }).scope;
  return err;
}

/** The request id the gateway put on the response before handing it to oidc-provider. */
function requestIdOf(ctx: KoaContextWithOIDC | undefined): string | undefined {
  const id = ctx?.res.getHeader('x-request-id');
  return typeof id === 'string' ? id : undefined;
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
  const Adapter = createAdapterClass(store, deps.now, {
    maxClients: config.registration.maxClients,
    unusedClientTtlSeconds: config.registration.unusedClientTtlSeconds,
  });
  const prefix = deps.secure ? '__Secure-' : '';
  const registration = config.registration;
  const interactionsPolicy = interactionPolicy.base();
  interactionsPolicy
    .get('consent')!
    .checks.add(
      roleWithholdsAllCheck(interactionPolicy.Check, (ctx) =>
        resourceScopesFor(ctx.oidc.client!, deps.toolScopes(), 'person'),
      ),
    );

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
        // A metadata document is its publisher's own word, like a registration: it may not claim
        // client_credentials or server-side metadata. A refusal answers `invalid_client`.
        async allowClient(ctx, client) {
          const problem = checkSelfAssertedMetadata(client.metadata(), 'metadata-document');
          if (problem) {
            deps.logger.info({ clientId: client.clientId, problem }, 'metadata-document client refused');
            await deps.recordClientEvent({
              reason: 'client-registration-refused',
              clientId: client.clientId,
              errorCode: 'invalid_client_metadata',
              ...correlation(ctx),
            });
            return false;
          }
          await noteFirstUse(ctx, client.clientId);
          return true;
        },
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
          const grant =
            ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials'
              ? 'client_credentials'
              : 'person';
          // Within the client's limit, then (for a person) within their role.
          const scopes = await scopesWithinRole(
            ctx,
            resourceScopesFor(client, deps.toolScopes(), grant),
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
      properties: [...SERVER_SIDE_PROPERTIES],
      // Called for every client oidc-provider builds: a registration (with the request as ctx), a
      // stored client or a metadata document (without). The registrant's own body is checked once.
      validator(ctx, key, value, metadata) {
        const oidc = ctx?.oidc;
        if (key === CLIENT_CREATED_BY_PROPERTY) {
          if (oidc?.route === 'registration') {
            const problem = checkSelfAssertedMetadata(oidc.body ?? {}, 'registration');
            if (problem) throw new errors.InvalidClientMetadata(problem);
          }
          if (value !== undefined && value !== 'operator') {
            throw new errors.InvalidClientMetadata(`${CLIENT_CREATED_BY_PROPERTY} must be "operator"`);
          }
          return;
        }
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
    extraParams: {
      // OAuth 2.1 §3.2.2.1 (RFC 6749 §3.3): a request without `scope` gets the documented default
      // or `invalid_scope`, never a silent denial; so does a request none of whose scopes exists
      // here. oidc-provider runs extraParams validators last, after its own scope and resource
      // checks, and documents them as the place to assign defaults.
      scope(ctx, value, client) {
        const offered = resourceScopesFor(client, deps.toolScopes(), 'person');
        if (value === undefined) {
          const defaults = defaultScopes(deps.defaultScopeCandidates(), offered);
          if (defaults.length === 0) {
            throw invalidScope(
              'The request names no scope and this app has no default scope here; ask for the scopes you need.',
              offered,
            );
          }
          ctx.oidc.params!.scope = defaults.join(' ');
          return;
        }
        const requested = value.split(' ');
        if (!requested.some((s) => offered.includes(s) || STATIC_SCOPES.includes(s))) {
          throw invalidScope('None of the requested scopes is offered to this app here.', offered);
        }
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

  const correlation = (ctx: KoaContextWithOIDC | undefined) => {
    const id = requestIdOf(ctx);
    return id ? { correlationId: id } : {};
  };

  /**
   * The first use of a metadata-document client is its registration: audited once, and
   * remembered (`SeenMetadataDocument`) for as long as an unused registration would be kept, or
   * for good once a person completes an authorization with it.
   */
  async function noteFirstUse(ctx: KoaContextWithOIDC | undefined, clientId: string) {
    const now = deps.now();
    if (await store.find('SeenMetadataDocument', clientId, now)) return;
    const ttlMs = config.registration.unusedClientTtlSeconds * 1000;
    await store.upsert(
      'SeenMetadataDocument',
      clientId,
      { client_id: clientId },
      new Date(now.getTime() + ttlMs),
    );
    await deps.recordClientEvent({ reason: 'client-registered', clientId, ...correlation(ctx) });
  }

  const provider = new Provider(deps.issuer, configuration);
  provider.proxy = deps.trustProxy;

  // Client credentials are for operator-created clients only, whatever a client's metadata says:
  // a client stored by an older, unguarded registration keeps its `grant_types`, but the token
  // endpoint refuses the grant ("requested grant type is not allowed for this client"). The
  // resource server checks the client again on every call (check-revocation.ts).
  provider.Client.prototype.grantTypeAllowed = function grantTypeAllowed(
    this: InstanceType<Provider['Client']>,
    type: string,
  ) {
    if (type === 'client_credentials' && !isOperatorClient(this.metadata())) return false;
    return this.grantTypes?.includes(type) === true;
  };

  /** The requests whose server error was a database outage (marked by the event below). */
  const outages = new WeakSet<object>();
  provider.use(async function outageIsUnavailable(ctx: Partial<KoaContextWithOIDC>, next) {
    await next();
    if (ctx.status !== 500 || !outages.has(ctx)) return;
    const out = {
      error: 'temporarily_unavailable',
      error_description: 'The authorization server cannot reach its database; try again shortly.',
    };
    ctx.status = 503;
    ctx.set!('Retry-After', String(STORAGE_RETRY_AFTER_SECONDS));
    if (ctx.body && typeof ctx.body === 'object') ctx.body = out;
    else {
      ctx.type = 'html';
      ctx.body = errorPageHtml(out);
    }
  });

  // RFC 8414 §2 `scopes_supported`: the tool scopes the protected-resource metadata lists, beside
  // oidc-provider's own. They change with the catalogue, so they are filled in per request.
  provider.use(async function listToolScopes(ctx: Partial<KoaContextWithOIDC>, next) {
    await next();
    if (ctx.oidc?.route === 'discovery' && ctx.body && typeof ctx.body === 'object') {
      const body = ctx.body as { scopes_supported?: string[] };
      body.scopes_supported = [...new Set([...(body.scopes_supported ?? []), ...deps.toolScopes()])];
    }
  });

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

  provider.on('registration_create.success', (ctx, client) => {
    void deps.recordClientEvent({
      reason: 'client-registered',
      clientId: client.clientId,
      ...correlation(ctx),
    });
  });
  provider.on('registration_create.error', (ctx, err) => {
    void deps.recordClientEvent({
      reason: 'client-registration-refused',
      errorCode: err instanceof errors.OIDCProviderError ? err.error : 'server_error',
      ...correlation(ctx),
    });
  });
  // A database outage under oidc-provider's own endpoints is a wait-and-retry, as on every other
  // route (http/app.ts): 503 with Retry-After and OAuth's `temporarily_unavailable`, not a
  // `server_error` 500 that clients give up on and load balancers eject the replica for. The
  // provider catches the error itself and tells only this event, so the event marks the request
  // and the outermost middleware below rewrites the answer on its way out.
  provider.on('server_error', (ctx, err) => {
    if (isStorageOutage(err)) {
      outages.add(ctx);
      deps.logger.warn({ alert: 'storage-unavailable', err }, 'oauth request: database unreachable');
    } else deps.logger.error({ err }, 'oauth server error');
  });
  provider.on('grant.revoked', (_ctx, grantId) => deps.logger.info({ grantId }, 'oauth grant revoked'));
  return provider;
}
