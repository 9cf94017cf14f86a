import type { ApiKeyStore } from '../storage/index.js';
import { API_KEY_PREFIX, apiKeyMatches, parseApiKeyId } from './api-key.js';
import type { AccessTokenAuthenticator } from './authenticate-access-token.js';
import type { Principal } from './principal.js';
import type { AuthResult } from './result.js';

/**
 * The people this gateway knows, for their role ceilings (src/users `PersonCeilings`): `cap`
 * answers the scopes a credential acting for that person keeps, or undefined when the name is
 * no person here.
 */
export interface RoleCeilings {
  cap(name: string, scopes: ReadonlySet<string>): Promise<ReadonlySet<string> | undefined>;
}

/**
 * A person's role caps every credential that acts for them, read at each request, so lowering a
 * role (or disabling the person) takes effect on the next call: an API key by its owner, an
 * OAuth token by its subject. Client-credentials tokens act for the client itself (sub =
 * client_id), not for a person, and keep the scopes the operator limited the client to.
 */
async function capByRole(principal: Principal, people: RoleCeilings | undefined): Promise<Principal> {
  // The flag, not `subject === clientId`: a person's token (it names a grant) whose account
  // name equals the client id is still a person's.
  if (!people || principal.clientCredentials) {
    return principal;
  }
  const scopes = await people.cap(principal.subject, principal.scopes);
  return scopes ? { ...principal, scopes } : principal;
}

/** What authentication reads from a request: nothing else of it is trusted here. */
export interface AuthInput {
  readonly authorization: string | undefined;
  readonly url: URL;
}

const QUERY_CREDENTIAL_PARAMS = ['access_token', 'api_key', 'apikey', 'key', 'token'];

/** How often a key's last-used time is written; per request would make every call a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Authenticates one request from its `Authorization: Bearer` header. Runs on every request:
 * there is no "already authenticated" session state, so revoking a key stops its next request.
 */
export async function authenticate(
  input: AuthInput,
  deps: {
    apiKeys: ApiKeyStore;
    accessTokens?: AccessTokenAuthenticator | undefined;
    people?: RoleCeilings | undefined;
    now: Date;
  },
): Promise<AuthResult> {
  const result = await authenticateCredential(input, deps);
  return result.ok ? { ok: true, principal: await capByRole(result.principal, deps.people) } : result;
}

async function authenticateCredential(
  input: AuthInput,
  deps: { apiKeys: ApiKeyStore; accessTokens?: AccessTokenAuthenticator | undefined; now: Date },
): Promise<AuthResult> {
  // RFC 6750 §2.3 allows query-string tokens, but they end up in logs and Referer headers;
  // the MCP authorization spec forbids them. Refuse rather than ignore, so clients learn.
  if (QUERY_CREDENTIAL_PARAMS.some((p) => input.url.searchParams.has(p))) {
    return { ok: false, reason: 'credential-in-query' };
  }
  const header = input.authorization;
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'credential-missing' };
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim());
  if (!match) return { ok: false, reason: 'credential-malformed' };
  const key = match[1]!;
  // Dispatch on the credential's shape: API keys carry our prefix; anything else is an OAuth
  // access token (a JWT) for the resource server, when OAuth is on.
  if (!key.startsWith(API_KEY_PREFIX)) {
    return deps.accessTokens
      ? deps.accessTokens.authenticate(key, deps.now)
      : { ok: false, reason: 'credential-malformed' };
  }
  const id = parseApiKeyId(key);
  if (id === undefined) return { ok: false, reason: 'credential-malformed' };

  const record = await deps.apiKeys.findById(id);
  if (!record || !apiKeyMatches(key, record.hash)) return { ok: false, reason: 'credential-unknown' };
  if (record.revokedAt) return { ok: false, reason: 'credential-revoked', credentialId: id };
  if (record.expiresAt && record.expiresAt.getTime() <= deps.now.getTime()) {
    return { ok: false, reason: 'credential-expired', credentialId: id };
  }
  if (!record.lastUsedAt || deps.now.getTime() - record.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await deps.apiKeys.touchLastUsed(id, deps.now);
  }
  return {
    ok: true,
    principal: {
      subject: record.owner,
      tenant: record.tenant,
      credentialId: record.id,
      authMethod: 'api-key',
      scopes: new Set(record.scopes),
      binding: `api-key:${record.id}`,
      ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
    },
  };
}
