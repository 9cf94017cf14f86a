import { z } from 'zod';
import { secretRefSchema } from '../secrets/index.js';

/**
 * The `oauth` section of the configuration: Portcullis as an OAuth 2.1 authorization server
 * (built on oidc-provider, mounted at `/oauth`) and as the resource server that checks the
 * tokens on /mcp. Mounted in src/config/schema.ts as one key; every field documents itself.
 */

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);
const cidrList = z.array(z.string().min(1));

const registrationSchema = z
  .strictObject({
    policy: z
      .enum(['open', 'initial-access-token', 'off'])
      .default('open')
      .describe(
        'Dynamic Client Registration (RFC 7591) at /oauth/reg: `open` lets any client register (what MCP ' +
          'clients such as Claude expect), `initial-access-token` needs the token below as a Bearer credential, ' +
          '`off` disables the endpoint (clients come from `portcullis clients create` or metadata documents).',
      ),
    initialAccessToken: secretRefSchema
      .optional()
      .describe(
        'Secret reference to the initial access token; required when policy is `initial-access-token`.',
      ),
    maxClients: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe(
        'Most registered clients kept at once (operator-created clients do not count). Beyond it, ' +
          'registration answers 503 `temporarily_unavailable` until unused registrations are pruned.',
      ),
    unusedClientTtlSeconds: seconds(600, 30 * 86_400)
      .default(86_400)
      .describe(
        'A registered client with which no person has completed an authorization is deleted after this ' +
          'long. Once a person consents, the client is kept.',
      ),
  })
  .describe(
    'Dynamic Client Registration. Registered clients act only for people who sign in: they must send ' +
      '`application_type` and may not use `client_credentials` (that is for `portcullis clients create`). ' +
      'Registrations per client address are limited by `rateLimits.registration`.',
  );

const clientFetchSchema = z
  .strictObject({
    clientIdMetadataDocuments: z
      .boolean()
      .default(true)
      .describe(
        'Accept https URLs as client_id and fetch their Client ID Metadata Documents (no registration needed).',
      ),
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024)
      .default(5 * 1024)
      .describe('Largest metadata document or client JWKS accepted, in bytes.'),
    timeoutMs: z
      .number()
      .int()
      .min(100)
      .max(30_000)
      .default(2500)
      .describe('Deadline for one fetch, connect to last byte.'),
    allowAddresses: cidrList
      .default([])
      .describe(
        'Internal CIDRs that client-supplied URLs may nevertheless reach. Leave empty: these URLs come from ' +
          'strangers. Tests use it for 127.0.0.1.',
      ),
  })
  .describe(
    'Fetches of client-supplied URLs (Client ID Metadata Documents, client jwks_uri): https only, public ' +
      'addresses only, size and time capped, through the egress guard.',
  );

const loginSchema = z
  .strictObject({
    maxFailuresPerAccount: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .describe('Failed logins for one account within the window before it is locked for lockoutSeconds.'),
    maxFailuresPerAddress: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(20)
      .describe('Failed logins from one client address within the window before it is locked.'),
    windowSeconds: seconds(60, 86_400).default(900).describe('The window failures are counted over.'),
    lockoutSeconds: seconds(10, 86_400).default(900).describe('How long a lock lasts.'),
  })
  .describe('Local-user login throttling.');

const roleRuleSchema = z
  .strictObject({
    claim: z.string().min(1).describe('The ID-token (or UserInfo) claim to read, e.g. `groups`.'),
    equals: z
      .union([z.string(), z.number(), z.boolean()])
      .describe('The value that matches: the claim equals it, or is a list that contains it.'),
    role: z
      .string()
      .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, { message: 'must be a role name (kebab-case)' })
      .describe('The role given: a built-in one (`admin`, `member`) or one from `policy.roles`.'),
  })
  .describe('One claim-to-role rule.');

const federationSchema = z
  .strictObject({
    issuer: z
      .url({ protocol: /^https?$/ })
      .describe('The identity provider issuer (OIDC discovery is fetched from it through the egress guard).'),
    clientId: z
      .string()
      .min(1)
      .describe('The client id Portcullis is registered with at the identity provider.'),
    clientSecret: secretRefSchema.describe('Secret reference to the client secret.'),
    displayName: z
      .string()
      .min(1)
      .max(60)
      .default('Single sign-on')
      .describe('Button text on the login page.'),
    scopes: z
      .array(z.string().min(1))
      .default(['openid', 'email', 'profile'])
      .describe('Scopes requested from the identity provider.'),
    subjectClaim: z
      .string()
      .min(1)
      .default('email')
      .describe(
        'ID-token claim that becomes the Portcullis account name (the token subject). `email` is taken only ' +
          'with `email_verified: true`.',
      ),
    tenantClaim: z
      .string()
      .min(1)
      .optional()
      .describe(
        'ID-token claim that names the tenant; when unset the tenant is the account name. `email` is taken ' +
          'only with `email_verified: true`.',
      ),
    allowedDomains: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Email domains allowed to log in (checked on a verified `email` claim). Empty allows every account ' +
          'the identity provider authenticates.',
      ),
    roles: z
      .array(roleRuleSchema)
      .default([])
      .describe(
        "Claims to roles, read at every sign-in; the first rule that matches gives the person's role. A " +
          'person no rule matches may sign in but gets no tool scopes. Rules on `email` match only a verified ' +
          'email. Example: `[{claim: groups, equals: mcp-admins, role: admin}, {claim: email_verified, ' +
          'equals: true, role: member}]`.',
      ),
    allowAddresses: cidrList
      .default([])
      .describe('Internal CIDRs the identity provider may be reached at (an in-house Keycloak).'),
    allowHttp: z
      .boolean()
      .default(false)
      .describe('Allow an http:// issuer (tests and loopback development only).'),
  })
  .describe("Log people in through the operator's OIDC identity provider (Keycloak, Auth0, Entra, Google…).");

const externalSchema = z
  .strictObject({
    issuer: z.string().min(1).describe('The `iss` the external authorization server puts in its tokens.'),
    jwksUri: z
      .url({ protocol: /^https?$/ })
      .describe('Where its public keys are published (fetched through the egress guard, cached).'),
    algorithms: z
      .array(z.enum(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']))
      .default(['RS256', 'ES256'])
      .describe('JWS algorithms accepted; anything else (and `none`, and every HS*) is refused.'),
    audience: z.string().min(1).optional().describe('Expected `aud`; defaults to the canonical MCP URL.'),
    requireTyp: z
      .boolean()
      .default(true)
      .describe('Require the RFC 9068 `typ: at+jwt` header (turn off only for servers that cannot send it).'),
    scopeClaim: z.string().min(1).default('scope').describe('Claim holding the space-separated scopes.'),
    tenantClaim: z
      .string()
      .min(1)
      .optional()
      .describe('Claim naming the tenant; when unset the tenant is the subject.'),
    allowAddresses: cidrList.default([]).describe('Internal CIDRs the JWKS may be reached at.'),
    allowHttp: z.boolean().default(false).describe('Allow an http:// jwksUri (tests only).'),
  })
  .describe(
    'Trust another authorization server (Keycloak, Auth0, Entra…) instead of the built-in one: its JWTs ' +
      'are checked with the same rules. When set, /oauth is not served.',
  );

export const oauthConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Serve the OAuth 2.1 authorization server at /oauth and accept its tokens on /mcp.'),
    accessTokenTtlSeconds: seconds(60, 3600)
      .default(300)
      .describe('Lifetime of access tokens (JWT, audience-bound to the MCP URL).'),
    refreshTokenTtlSeconds: seconds(300, 90 * 86_400)
      .default(14 * 86_400)
      .describe('Lifetime of a refresh token chain; every use rotates the token.'),
    grantTtlSeconds: seconds(300, 365 * 86_400)
      .default(90 * 86_400)
      .describe('How long a remembered consent (a grant) lasts before the person is asked again.'),
    clockToleranceSeconds: seconds(0, 60)
      .default(5)
      .describe('Clock skew tolerated on exp, nbf and iat when checking tokens.'),
    cookieKeys: z
      .array(secretRefSchema)
      .default([])
      .describe(
        'Secret references to the keys that sign cookies, newest first (keep old ones listed while rotating). ' +
          'Empty: a key generated in keys/cookie-keys.json is used.',
      ),
    registration: registrationSchema.prefault({}),
    clientFetch: clientFetchSchema.prefault({}),
    login: loginSchema.prefault({}),
    federation: federationSchema.optional(),
    external: externalSchema.optional(),
  })
  .describe('OAuth 2.1: authorization server at /oauth, resource server on /mcp.');

export type OAuthConfig = z.output<typeof oauthConfigSchema>;
export type FederationConfig = NonNullable<OAuthConfig['federation']>;
export type ExternalAsConfig = NonNullable<OAuthConfig['external']>;
