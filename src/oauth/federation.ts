import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type Provider from 'oidc-provider';
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import { createEgressGuard, type EgressGuard } from '../egress/index.js';
import { resolveSecret } from '../secrets/index.js';
import type { ApiKeyStore } from '../storage/index.js';
import type { SignIn } from '../signin/index.js';
import { clearCookie, cookieName, errorPage, readCookie, serializeCookie } from '../ui/index.js';
import { USER_NAME_PATTERN, type UserStore } from '../users/index.js';
import type { FederationConfig } from './config.js';
import { egressFetch } from './egress-fetch.js';
import type { OAuthStore } from './store/index.js';
import type { OAuthEnv as Env } from './http-env.js';

/** Why a federated login was refused; logged verbatim, shown as one generic sentence. */
export type FederationFailure =
  | 'federation-state-invalid'
  | 'federation-exchange-failed'
  | 'federation-claim-missing'
  | 'federation-email-unverified'
  | 'federation-domain-not-allowed'
  | 'federation-name-taken'
  | 'federation-account-disabled';

export interface MappedIdentity {
  readonly name: string;
  readonly tenant: string;
  readonly issuer: string;
  readonly subject: string;
  /** From `roles`: null when no rule matched (the person gets no tool scopes). */
  readonly role: string | null;
}

type MappingConfig = Pick<FederationConfig, 'subjectClaim' | 'tenantClaim' | 'allowedDomains' | 'roles'>;

/**
 * Whether the identity (account name, tenant, domain rule) rests on the `email` claim. An
 * address is only an identity once the identity provider has verified it (OIDC Core §5.1
 * `email_verified`); an unverified one is whatever the person typed, and as an account name it
 * would hand them the data of whoever owns that name here.
 */
function identityFromEmail(config: MappingConfig): boolean {
  return (
    config.subjectClaim === 'email' || config.tenantClaim === 'email' || config.allowedDomains.length > 0
  );
}

/**
 * The role of the first rule whose claim equals its value (or, for a list claim, contains it).
 * A rule on `email` matches only a verified address, for the reason above.
 */
export function mapRole(claims: Record<string, unknown>, rules: MappingConfig['roles']): string | null {
  for (const rule of rules) {
    if (rule.claim === 'email' && claims.email_verified !== true) continue;
    const value = claims[rule.claim];
    if (value === rule.equals || (Array.isArray(value) && value.includes(rule.equals))) return rule.role;
  }
  return null;
}

/** The claims the mapping needs; those missing from the ID token are asked of UserInfo. */
function claimsNeeded(config: MappingConfig): string[] {
  return [
    ...new Set([
      config.subjectClaim,
      ...(config.tenantClaim ? [config.tenantClaim] : []),
      ...(identityFromEmail(config) || config.roles.some((r) => r.claim === 'email')
        ? ['email', 'email_verified']
        : []),
      ...config.roles.map((r) => r.claim),
    ]),
  ];
}

/**
 * Maps verified ID-token claims to a Portcullis account: pure, so every rule is testable.
 * Whenever the identity rests on the `email` claim, it must be verified (see identityFromEmail).
 */
export function mapClaims(
  claims: Record<string, unknown>,
  config: MappingConfig,
  issuer: string,
): { ok: true; identity: MappedIdentity } | { ok: false; reason: FederationFailure } {
  const name = claims[config.subjectClaim];
  const sub = claims.sub;
  if (typeof name !== 'string' || !USER_NAME_PATTERN.test(name) || typeof sub !== 'string') {
    return { ok: false, reason: 'federation-claim-missing' };
  }
  if (identityFromEmail(config) && (claims.email_verified !== true || typeof claims.email !== 'string')) {
    return { ok: false, reason: 'federation-email-unverified' };
  }
  if (config.allowedDomains.length > 0 && typeof claims.email === 'string') {
    const domain = claims.email.slice(claims.email.lastIndexOf('@') + 1).toLowerCase();
    if (!config.allowedDomains.some((d) => d.toLowerCase() === domain)) {
      return { ok: false, reason: 'federation-domain-not-allowed' };
    }
  }
  const tenant = config.tenantClaim ? claims[config.tenantClaim] : name;
  if (typeof tenant !== 'string' || tenant === '') return { ok: false, reason: 'federation-claim-missing' };
  return {
    ok: true,
    identity: { name, tenant, issuer, subject: sub, role: mapRole(claims, config.roles) },
  };
}

/**
 * Whether a first federated sign-in as `identity` would take over what somebody else holds here:
 * the account name owns an API key (the key would be capped by the newcomer's role), or — when
 * the tenant is the account name rather than an identity-provider claim — the tenant is already
 * the tenant of a key or of another person, so the newcomer would reach their notes. Notes are
 * written only through a key or a person's token, and keys are revoked but never deleted, so
 * keys and people cover every tenant that holds data. A tenant from `tenantClaim` is the
 * identity provider's statement of organisation and is shared by design.
 */
export async function claimsHeldName(
  identity: Pick<MappedIdentity, 'name' | 'tenant'>,
  tenantFromClaim: boolean,
  held: { keys: Pick<ApiKeyStore, 'list'>; users: Pick<UserStore, 'list'> },
): Promise<boolean> {
  const keys = await held.keys.list();
  if (keys.some((k) => k.owner === identity.name)) return true;
  if (tenantFromClaim) return false;
  if (keys.some((k) => k.tenant === identity.tenant)) return true;
  return (await held.users.list()).some((u) => u.tenant === identity.tenant);
}

const STATE_TTL_MS = 10 * 60_000;
const TICKET_TTL_MS = 60_000;

/**
 * Login through the operator's OIDC identity provider with openid-client: authorization code +
 * PKCE + state + nonce, discovery and token requests through the egress guard. The state is
 * kept server-side and bound to the browser by a cookie, so a callback cannot be replayed or
 * planted in somebody else's browser (login CSRF).
 */
export function createFederation(deps: {
  config: FederationConfig;
  /** The authorization server, built on first use (create-oauth-server.ts). */
  provider: () => Promise<Provider>;
  users: UserStore;
  /** API keys, whose owners and tenants a first federated sign-in must not claim. */
  apiKeys: Pick<ApiKeyStore, 'list'>;
  store: OAuthStore;
  signin: SignIn;
  publicUrl: URL;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  now: () => Date;
  onGuard: (guard: EgressGuard) => void;
}) {
  const { config } = deps;
  const issuerUrl = new URL(config.issuer);
  const guard = createEgressGuard({
    allowHosts: [issuerUrl.hostname],
    allowHttpHosts: config.allowHttp ? [issuerUrl.hostname] : [],
    allowAddresses: config.allowAddresses,
    maxRedirects: 0,
    maxBytes: 256 * 1024,
    timeoutMs: 10_000,
  });
  deps.onGuard(guard);
  const callbackUrl = `${deps.publicUrl.origin}/oauth/federation/callback`;
  const secure = deps.publicUrl.protocol === 'https:';
  const stateCookie = cookieName('pcs_federation', { secure });
  // Resolved now, so a missing secret stops the start instead of surfacing at the first sign-in
  // as an unreachable identity provider.
  const clientSecret = resolveSecret(config.clientSecret, deps.env);
  const fetchThroughGuard: oidc.CustomFetch = egressFetch(guard);
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    discovered ??= oidc
      .discovery(issuerUrl, config.clientId, clientSecret, undefined, {
        [oidc.customFetch]: fetchThroughGuard,
        // OIDC Core §3.1.3.7 lets a client skip the ID token's signature when TLS vouches for
        // the token endpoint; it is checked anyway against the IdP's published keys, so the
        // login rests on the IdP's key and not only on the channel (which is plain http when
        // allowHttp is on).
        execute: [oidc.enableNonRepudiationChecks, ...(config.allowHttp ? [oidc.allowInsecureRequests] : [])],
      })
      .catch((err: unknown) => {
        discovered = undefined;
        throw err;
      });
    return discovered;
  };
  const expiry = (ms: number) => new Date(deps.now().getTime() + ms);

  const fail = async (c: Context<Env>, reason: FederationFailure, err?: unknown) => {
    deps.logger.info({ reason, err, requestId: c.get('requestId') }, 'federated login refused');
    await deps.signin.federationRefused(c, reason);
    const message =
      reason === 'federation-domain-not-allowed'
        ? 'Your organisation is not allowed to sign in here.'
        : reason === 'federation-name-taken'
          ? 'Your account name already belongs to someone here. Ask the operator to link your sign-in to it.'
          : 'Signing in with your organisation did not work. Go back to the app and try again.';
    return errorPage('Sign-in failed', message, 403, c.get('requestId'));
  };

  async function start(c: Context<Env>, purpose: { uid?: string }): Promise<Response> {
    let cfg: oidc.Configuration;
    try {
      cfg = await configuration();
    } catch (err) {
      deps.logger.error({ err }, 'identity provider discovery failed');
      return errorPage(
        'Sign-in unavailable',
        'The identity provider cannot be reached right now.',
        503,
        c.get('requestId'),
      );
    }
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    await deps.store.upsert('FederationState', state, { verifier, nonce, ...purpose }, expiry(STATE_TTL_MS));
    const url = oidc.buildAuthorizationUrl(cfg, {
      redirect_uri: callbackUrl,
      scope: config.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    c.header(
      'set-cookie',
      serializeCookie(stateCookie, state, { secure }, { maxAgeSeconds: STATE_TTL_MS / 1000 }),
    );
    return c.redirect(url.href, 303);
  }

  const routes = new Hono<Env>();
  routes.get('/oauth/interaction/:uid/federated', (c) => start(c, { uid: c.req.param('uid') }));
  routes.get('/account/federated', (c) => start(c, {}));

  routes.get('/oauth/federation/callback', async (c) => {
    const state = c.req.query('state') ?? '';
    const saved = state ? await deps.store.find('FederationState', state, deps.now()) : undefined;
    if (!saved || readCookie(c.req.header('cookie'), stateCookie) !== state) {
      return fail(c, 'federation-state-invalid');
    }
    await deps.store.destroy('FederationState', state);
    c.header('set-cookie', clearCookie(stateCookie, { secure }));
    let claims: Record<string, unknown>;
    try {
      const cfg = await configuration();
      const current = new URL(c.req.url);
      const tokens = await oidc.authorizationCodeGrant(cfg, new URL(`${callbackUrl}${current.search}`), {
        pkceCodeVerifier: String(saved.verifier),
        expectedState: state,
        expectedNonce: String(saved.nonce),
        idTokenExpected: true,
      });
      // Present: idTokenExpected makes a token response without an ID token an error.
      const idClaims = tokens.claims()!;
      // OIDC Core §5.4: claims asked for by scope (email, profile) may be served only from the
      // UserInfo endpoint, as oidc-provider does. It is asked only when the ID token lacks one,
      // so an IdP whose ID tokens carry them needs no UserInfo endpoint on the issuer's host.
      // ID-token claims win; §5.3.2: the UserInfo `sub` must match (openid-client checks it).
      const missing = claimsNeeded(config).some((claim) => idClaims[claim] === undefined);
      const userInfo =
        missing && cfg.serverMetadata().userinfo_endpoint
          ? await oidc.fetchUserInfo(cfg, tokens.access_token, idClaims.sub)
          : {};
      claims = { ...userInfo, ...idClaims };
    } catch (err) {
      return fail(c, 'federation-exchange-failed', err);
    }
    const mapped = mapClaims(claims, config, typeof claims.iss === 'string' ? claims.iss : config.issuer);
    if (!mapped.ok) return fail(c, mapped.reason);
    const { identity } = mapped;
    const existing = await deps.users.find(identity.name);
    if (existing) {
      if (existing.federatedIssuer !== identity.issuer || existing.federatedSubject !== identity.subject) {
        return fail(c, 'federation-name-taken');
      }
      if (existing.disabledAt) return fail(c, 'federation-account-disabled');
      // The identity provider's claims are the source of a federated person's role: re-read at
      // every sign-in, so a person moved out of a group loses the role at their next sign-in.
      if (existing.role !== identity.role) await deps.users.setRole(identity.name, identity.role);
    } else if (
      await claimsHeldName(identity, config.tenantClaim !== undefined, {
        keys: deps.apiKeys,
        users: deps.users,
      })
    ) {
      // The operator links such a name to its identity-provider account beforehand
      // (`portcullis users add NAME --federated-subject SUB`), which makes it `existing` above.
      return fail(c, 'federation-name-taken');
    } else {
      await deps.users.insert({
        name: identity.name,
        tenant: identity.tenant,
        passwordHash: null,
        federatedIssuer: identity.issuer,
        federatedSubject: identity.subject,
        role: identity.role,
        createdAt: deps.now(),
        disabledAt: null,
        lastLoginAt: null,
      });
    }
    await deps.users.recordLogin(identity.name, deps.now());
    const user = (await deps.users.find(identity.name))!;
    c.header('set-cookie', await deps.signin.federated(c, user), { append: true });
    if (typeof saved.uid !== 'string') return c.redirect('/account', 303);
    // The interaction cookie is scoped to the interaction's path, so the login is finished
    // there, with a one-time ticket naming who signed in.
    const ticket = randomBytes(24).toString('base64url');
    await deps.store.upsert(
      'FederationLogin',
      ticket,
      { accountId: user.name, uid: saved.uid },
      expiry(TICKET_TTL_MS),
    );
    return c.redirect(
      `/oauth/interaction/${encodeURIComponent(saved.uid)}/federated/done?ticket=${ticket}`,
      303,
    );
  });

  routes.get('/oauth/interaction/:uid/federated/done', async (c) => {
    const ticket = c.req.query('ticket') ?? '';
    const login = ticket ? await deps.store.find('FederationLogin', ticket, deps.now()) : undefined;
    if (ticket) await deps.store.destroy('FederationLogin', ticket);
    const provider = await deps.provider();
    let details;
    try {
      details = await provider.interactionDetails(c.env.incoming, c.env.outgoing);
    } catch {
      details = undefined;
    }
    if (!login || !details || details.uid !== c.req.param('uid') || login.uid !== details.uid) {
      return fail(c, 'federation-state-invalid');
    }
    const returnTo = await provider.interactionResult(c.env.incoming, c.env.outgoing, {
      login: { accountId: String(login.accountId) },
    });
    return c.redirect(returnTo, 303);
  });

  return {
    label: config.displayName,
    routes,
    interactionStartPath: (uid: string) => `/oauth/interaction/${encodeURIComponent(uid)}/federated`,
    accountStartPath: () => '/account/federated',
  };
}
