import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { createRemoteJWKSet, customFetch } from 'jose';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import {
  createAccessTokenAuthenticator,
  type AccessTokenAuthenticator,
  type VerifyOptions,
} from '../auth/index.js';
import { createEgressGuard, type EgressGuard } from '../egress/index.js';
import { PortcullisError } from '../errors/index.js';
import type { ScopeCeiling } from '../policy/index.js';
import { resolveSecret } from '../secrets/index.js';
import type { SignIn } from '../signin/index.js';
import type { ApiKeyStore } from '../storage/index.js';
import type { Catalogue } from '../tools/index.js';
import { STYLESHEET, STYLESHEET_PATH } from '../ui/index.js';
import { createPersonCeilings } from '../users/index.js';
import { addOAuthChallenge } from './add-challenge.js';
import { createRevocationCheck } from './check-revocation.js';
import type { RevocationSignal } from './revocation-fanout.js';
import type { OAuthConfig } from './config.js';
import { loadCookieKeys } from './cookie-keys.js';
import { buildOnFirstUse } from './build-on-first-use.js';
import type * as CreateProviderModule from './create-provider.js';
import { importAgain } from '../lazy/index.js';
import { defaultScopeCandidates } from './default-scope.js';
import { egressFetch } from './egress-fetch.js';
import { createProviderHandler, OAUTH_PREFIX, type ProviderHandler } from './mount-provider.js';
import { createAccountRoutes } from './pages/account-routes.js';
import { createInteractionRoutes } from './pages/interaction-routes.js';
import { createClientEventRecorder, type ControlPlaneAudit } from './record-client-event.js';
import { protectedResourceMetadata, protectedResourceMetadataUrl } from './resource-metadata.js';
import type { SigningKeyRing } from './signing-key-ring.js';
import type { StoredSigningKey } from './signing-keys.js';
import type { OAuthDatabase } from './store/index.js';
import type { OAuthEnv as Env } from './http-env.js';

/** oidc-provider and Koa come with this module; a failed first load is tried again. */
const loadCreateProvider = importAgain<typeof CreateProviderModule>(
  new URL('./create-provider.js', import.meta.url),
);

export interface OAuthServerDeps {
  readonly config: OAuthConfig;
  readonly publicUrl: URL;
  /** The canonical MCP URL (`<public URL>/mcp`): the resource and the token audience. */
  readonly resource: string;
  readonly db: OAuthDatabase;
  /** API keys: a first federated sign-in may not claim a key owner's name or tenant. */
  readonly apiKeys: Pick<ApiKeyStore, 'list'>;
  readonly catalogue: Catalogue;
  /** The compiled roles (built-in and `policy.roles`): people's scope ceilings. */
  readonly roles: ReadonlyMap<string, ScopeCeiling>;
  /**
   * The token-signing keys, kept in step with their source (the key file or `keys.tokenSigning`);
   * needed by the built-in authorization server only.
   */
  readonly signingKeys: SigningKeyRing | undefined;
  readonly keysDir: string;
  /** Browser origins allowed by `server.allowedOrigins` (CORS on the token endpoint). */
  readonly allowedOrigins: ReadonlySet<string>;
  readonly trustProxy: boolean;
  /** How people sign in on the pages; the same one serves /approvals. */
  readonly signin: SignIn;
  readonly env: NodeJS.ProcessEnv;
  /**
   * Control-plane records (client registrations, consents, disconnections) go here; undefined
   * when the audit log is off.
   */
  readonly audit?: ControlPlaneAudit | undefined;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Revocations pushed between replicas (Redis); without it every call reads the epoch. */
  readonly revocations?: RevocationSignal | undefined;
}

export interface OAuthServer {
  /** Every OAuth route: /oauth/*, the well-known metadata, /account, the stylesheet. */
  readonly routes: Hono<Env>;
  /** Adds `resource_metadata` and `scope` to the /mcp challenges. */
  readonly challenge: MiddlewareHandler;
  /** The resource server's check of Bearer JWTs on /mcp. */
  readonly accessTokens: AccessTokenAuthenticator;
  /** Hears each new signing key set after a rotation (built-in AS only). */
  onSigningKeys(listener: (keys: readonly StoredSigningKey[]) => void): void;
  close(): Promise<void>;
}

/** Scopes of the tools currently served, in catalogue order. */
const toolScopes = (catalogue: Catalogue) => () => [...new Set(catalogue.entries().map((e) => e.tool.scope))];

/**
 * Builds the OAuth side of the gateway from configuration: the built-in authorization server
 * (oidc-provider at /oauth, login/consent/connected-apps pages) or, in external mode, only the
 * resource server trusting another issuer. Returns undefined when OAuth is off (API keys only).
 */
export async function createOAuthServer(deps: OAuthServerDeps): Promise<OAuthServer | undefined> {
  const { config } = deps;
  if (!config.enabled && !config.external) return undefined;
  const guards: EgressGuard[] = [];
  const scopes = toolScopes(deps.catalogue);
  const routes = new Hono<Env>();
  const issuer = config.external ? config.external.issuer : `${deps.publicUrl.origin}${OAUTH_PREFIX}`;

  // RFC 9728 metadata at the path-inserted URL, and at the root for clients that predate it.
  const prm = (c: Context) =>
    c.json(
      protectedResourceMetadata({ resource: deps.resource, authorizationServer: issuer, scopes: scopes() }),
      200,
      {
        'access-control-allow-origin': '*',
      },
    );
  routes.get(new URL(protectedResourceMetadataUrl(deps.resource)).pathname, prm);
  routes.get('/.well-known/oauth-protected-resource', prm);

  const challenge = addOAuthChallenge({
    resourceMetadataUrl: protectedResourceMetadataUrl(deps.resource),
    challengeScopes: scopes,
  });

  const base = {
    audience: deps.resource,
    clockToleranceSeconds: config.clockToleranceSeconds,
    scopeClaim: 'scope',
  };
  let verify: VerifyOptions;
  if (config.external) {
    const ext = config.external;
    const host = new URL(ext.jwksUri).hostname;
    const guard = createEgressGuard({
      allowHosts: [host],
      allowHttpHosts: ext.allowHttp ? [host] : [],
      allowAddresses: ext.allowAddresses,
      maxRedirects: 0,
      maxBytes: 256 * 1024,
      timeoutMs: 5000,
    });
    guards.push(guard);
    verify = {
      ...base,
      keys: createRemoteJWKSet(new URL(ext.jwksUri), {
        [customFetch]: egressFetch(guard),
        cooldownDuration: 30_000,
        cacheMaxAge: 600_000,
      }),
      algorithms: ext.algorithms,
      issuer: ext.issuer,
      audience: ext.audience ?? deps.resource,
      requireTyp: ext.requireTyp,
      requiredClaims: ['iat'],
      scopeClaim: ext.scopeClaim,
      ...(ext.tenantClaim ? { tenantClaim: ext.tenantClaim } : {}),
    };
    return {
      routes,
      challenge,
      accessTokens: createAccessTokenAuthenticator({
        verify,
        revocation: createRevocationCheck(deps.db.oauth, { requireGrant: false, signal: deps.revocations }),
      }),
      onSigningKeys: () => {},
      close: async () => {
        for (const g of guards) await g.close();
      },
    };
  }

  // ---- built-in authorization server ----
  const ring = deps.signingKeys;
  if (!ring) throw new Error('the built-in authorization server needs its signing keys');
  const cookieKeys = loadCookieKeys(config.cookieKeys, deps.keysDir, deps.env);
  const secure = deps.publicUrl.protocol === 'https:';
  let initialAccessToken: string | undefined;
  if (config.registration.policy === 'initial-access-token') {
    if (!config.registration.initialAccessToken) {
      throw new PortcullisError(
        'config-invalid',
        'oauth.registration.initialAccessToken is required when oauth.registration.policy is initial-access-token.',
      );
    }
    initialAccessToken = resolveSecret(config.registration.initialAccessToken, deps.env);
  }
  config.federation?.roles.forEach((rule, i) => {
    if (!deps.roles.has(rule.role)) {
      throw new PortcullisError(
        'config-invalid',
        `oauth.federation.roles.${i}.role: unknown role "${rule.role}" (known: ${[...deps.roles.keys()].join(', ')})`,
      );
    }
  });
  const people = createPersonCeilings(deps.db.users, deps.roles);
  const clientGuard = createEgressGuard({
    allowHosts: ['*'],
    allowAddresses: config.clientFetch.allowAddresses,
    maxRedirects: 0,
    maxBytes: config.clientFetch.maxBytes,
    timeoutMs: config.clientFetch.timeoutMs,
  });
  guards.push(clientGuard);
  const recordClientEvent = createClientEventRecorder(deps.audit, deps.logger);

  // oidc-provider (with Koa, some 200 modules and tens of MiB) is loaded and built on the first
  // request that needs it, not at start: a gateway serving API keys or already-issued tokens
  // never needs it, and /mcp's Bearer check uses jose and the key ring only. Everything about
  // its configuration that can be wrong was checked above, so `npm start` still fails at once
  // on a bad one.
  //
  // oidc-provider takes its keys at construction, so a rotation builds a new instance over the
  // same store (every grant, session and interaction lives there) and swaps it in — if one was
  // built; otherwise the first build reads the ring's keys of that moment.
  let current: { provider: Provider; handler: ProviderHandler } | undefined;
  // Set in the same step as the first instance, so a rotation that lands before the build's
  // promise has settled (a microtask later) is not missed.
  let rebuild: ((keys: readonly StoredSigningKey[]) => void) | undefined;
  const authorizationServer = buildOnFirstUse(async () => {
    const { createProvider } = await loadCreateProvider();
    const build = (signingKeys: readonly StoredSigningKey[]) => {
      const provider = createProvider({
        config,
        issuer,
        resource: deps.resource,
        store: deps.db.oauth,
        users: deps.db.users,
        people,
        signingKeys,
        cookieKeys,
        clientGuard,
        toolScopes: scopes,
        defaultScopeCandidates: () => defaultScopeCandidates(deps.catalogue.entries().map((e) => e.tool)),
        recordClientEvent,
        allowedOrigins: deps.allowedOrigins,
        initialAccessToken,
        secure,
        trustProxy: deps.trustProxy,
        logger: deps.logger,
        now: deps.now,
      });
      return { provider, handler: createProviderHandler(provider, { hsts: secure }) };
    };
    current = build(ring.keys());
    rebuild = (keys) => {
      current = build(keys);
    };
    deps.logger.info('oauth: authorization server built on first use');
    return rebuild;
  });
  ring.onChange((keys) => rebuild?.(keys));
  /** The current instance, for the pages and federation; builds it on first use. */
  const provider = async (): Promise<Provider> => {
    await authorizationServer.get();
    return current!.provider;
  };
  const toProvider = async (c: Context<Env>, path?: string): Promise<Response> => {
    try {
      await authorizationServer.get();
    } catch (err) {
      // Not kept: the next request builds again.
      deps.logger.error(
        { err, requestId: c.get('requestId') },
        'oauth: building the authorization server failed',
      );
      return c.json(
        {
          error: 'temporarily_unavailable',
          error_description: 'The authorization server is starting; try again shortly.',
        },
        503,
        { 'retry-after': '5' },
      );
    }
    return current!.handler(c, path);
  };

  // openid-client is loaded only when federation is configured.
  const federation = config.federation
    ? (await import('./federation.js')).createFederation({
        config: config.federation,
        provider,
        users: deps.db.users,
        apiKeys: deps.apiKeys,
        store: deps.db.oauth,
        signin: deps.signin,
        publicUrl: deps.publicUrl,
        env: deps.env,
        logger: deps.logger,
        now: deps.now,
        onGuard: (g) => guards.push(g),
      })
    : undefined;
  const pageDeps = {
    provider,
    signin: deps.signin,
    catalogue: deps.catalogue,
    people,
    users: deps.db.users,
    ...(deps.audit ? { audit: deps.audit } : {}),
    logger: deps.logger,
    now: deps.now,
  };

  routes.get(STYLESHEET_PATH, (c) =>
    c.body(STYLESHEET, 200, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
    }),
  );
  // RFC 8414 §3.1: the metadata of issuer `<origin>/oauth` lives at the path-inserted URL;
  // OIDC discovery (`/oauth/.well-known/openid-configuration`) is served by oidc-provider.
  const discovery = `${OAUTH_PREFIX}/.well-known/openid-configuration`;
  routes.get(`/.well-known/oauth-authorization-server${OAUTH_PREFIX}`, (c) => toProvider(c, discovery));
  routes.get(`/.well-known/openid-configuration${OAUTH_PREFIX}`, (c) => toProvider(c, discovery));
  routes.route(
    '/',
    createInteractionRoutes({
      ...pageDeps,
      csrf: deps.signin.csrf,
      ...(federation
        ? { federation: { label: federation.label, startPath: federation.interactionStartPath } }
        : {}),
    }),
  );
  if (federation) routes.route('/', federation.routes);
  routes.route(
    '/',
    createAccountRoutes({
      ...pageDeps,
      store: deps.db.oauth,
      ...(deps.audit ? { audit: deps.audit } : {}),
      ...(federation
        ? { federation: { label: federation.label, startPath: federation.accountStartPath } }
        : {}),
    }),
  );
  routes.all(`${OAUTH_PREFIX}/*`, (c) => toProvider(c));

  // Expired codes, sessions and tokens are invisible already; this only reclaims the space.
  const purge = setInterval(() => {
    deps.db.oauth
      .purgeExpired(deps.now())
      .catch((err: unknown) => deps.logger.warn({ err }, 'oauth purge failed'));
  }, 3_600_000);
  purge.unref();

  verify = {
    ...base,
    keys: ring.getKey,
    algorithms: ['ES256'],
    issuer,
    requireTyp: true,
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti are required.
    requiredClaims: ['iat', 'jti', 'client_id'],
    tenantClaim: 'tenant',
  };
  return {
    routes,
    challenge,
    accessTokens: createAccessTokenAuthenticator({
      verify,
      revocation: createRevocationCheck(deps.db.oauth, { requireGrant: true, signal: deps.revocations }),
    }),
    onSigningKeys: (listener) => ring.onChange(listener),
    // The ring is closed by whoever opened it (gateway/start.ts).
    close: async () => {
      clearInterval(purge);
      for (const g of guards) await g.close();
    },
  };
}
