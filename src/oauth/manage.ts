import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { UserStore } from '../users/index.js';
import { generateClientSecret, hashClientSecret } from './client-secret.js';
import { CLIENT_CREATED_BY_PROPERTY, CLIENT_SCOPES_PROPERTY, isOperatorClient } from './client-metadata.js';
import type { ModelPayload, OAuthStore } from './store/index.js';

/**
 * Administration used by the CLI (and tests): operator-created clients, client and user
 * revocation. Everything goes through the same store the running gateway reads, and every
 * revocation moves the store's revocation epoch, so a running gateway refuses the revoked
 * credentials on their next call without a restart.
 */
export interface CreateClientRequest {
  readonly name: string;
  readonly grant: 'client_credentials' | 'authorization_code';
  readonly redirectUris: readonly string[];
  readonly scopes: readonly string[];
  readonly authMethod: 'client_secret_basic' | 'private_key_jwt' | 'none';
  /** The client's public keys, for private_key_jwt. */
  readonly jwks?: { keys: JWK[] };
}

export interface CreatedClient {
  readonly clientId: string;
  /** Shown once; only its hash is stored. Absent for public and private_key_jwt clients. */
  readonly clientSecret?: string;
  readonly metadata: ModelPayload;
}

export async function createClient(
  store: OAuthStore,
  req: CreateClientRequest,
  now: Date,
): Promise<CreatedClient> {
  const clientId = `pcc_${randomBytes(12).toString('base64url')}`;
  const secret = req.authMethod === 'client_secret_basic' ? generateClientSecret() : undefined;
  const interactive = req.grant === 'authorization_code';
  const metadata: ModelPayload = {
    client_id: clientId,
    client_name: req.name,
    client_id_issued_at: Math.floor(now.getTime() / 1000),
    grant_types: interactive ? ['authorization_code', 'refresh_token'] : ['client_credentials'],
    response_types: interactive ? ['code'] : [],
    redirect_uris: [...req.redirectUris],
    token_endpoint_auth_method: req.authMethod,
    ...(req.authMethod === 'private_key_jwt' ? { token_endpoint_auth_signing_alg: 'ES256' } : {}),
    ...(secret ? { client_secret: hashClientSecret(secret) } : {}),
    ...(req.jwks ? { jwks: req.jwks } : {}),
    // The operator's ceiling for every token of this client, and the server-side mark that only
    // this function writes (a registrant sending either is refused).
    [CLIENT_SCOPES_PROPERTY]: [...req.scopes],
    [CLIENT_CREATED_BY_PROPERTY]: 'operator',
  };
  await store.upsert('Client', clientId, metadata, null);
  return { clientId, ...(secret ? { clientSecret: secret } : {}), metadata };
}

export interface ClientView {
  readonly clientId: string;
  readonly name: string;
  readonly grantTypes: readonly string[];
  readonly authMethod: string;
  readonly scopes: readonly string[] | 'any';
  readonly redirectUris: readonly string[];
  readonly registeredBy: 'operator' | 'dynamic-registration';
}

export async function listClients(store: OAuthStore): Promise<ClientView[]> {
  return (await store.listClients()).map((m) => ({
    clientId: String(m.client_id),
    name: typeof m.client_name === 'string' ? m.client_name : '',
    grantTypes: (m.grant_types as string[] | undefined) ?? ['authorization_code'],
    authMethod:
      typeof m.token_endpoint_auth_method === 'string' ? m.token_endpoint_auth_method : 'client_secret_basic',
    scopes: Array.isArray(m[CLIENT_SCOPES_PROPERTY]) ? (m[CLIENT_SCOPES_PROPERTY] as string[]) : 'any',
    redirectUris: (m.redirect_uris as string[] | undefined) ?? [],
    registeredBy: isOperatorClient(m) ? 'operator' : 'dynamic-registration',
  }));
}

/** Revokes a client: registration, grants and tokens deleted; its next call is refused. */
export function revokeClient(store: OAuthStore, clientId: string, now: Date): Promise<boolean> {
  return store.revokeClient(clientId, now);
}

/** Disables a person: no more logins, every grant withdrawn, every account session ended. */
export async function disableUser(
  users: UserStore,
  store: OAuthStore,
  name: string,
  now: Date,
): Promise<boolean> {
  if (!(await users.disable(name, now))) return false;
  for (const g of await store.listGrants({ accountId: name }, now)) await store.revokeByGrantId(g.id);
  await users.deleteSessionsOf(name);
  return true;
}
