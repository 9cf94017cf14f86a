import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  createClient,
  openSqliteOAuthDatabase,
  type CreateClientRequest,
  type OAuthDatabase,
} from '../../src/oauth/index.js';
import { hashPassword } from '../../src/users/index.js';
import type { TestGateway } from './gateway.js';
import type { TestBrowser } from './oauth-browser.js';

/**
 * The OAuth tables of a test gateway, opened beside it on the same SQLite file (as the CLI
 * does), for creating users and clients and for revoking things from "another process".
 */
export function openOAuthTables(t: TestGateway): OAuthDatabase {
  return openSqliteOAuthDatabase(path.join(t.dataDir, 'portcullis.db'));
}

/** Adds a local person; a member unless another role (or none, `null`) is named. */
export async function addUser(
  db: OAuthDatabase,
  name: string,
  password: string,
  tenant = name,
  role: string | null = 'member',
): Promise<void> {
  await db.users.insert({
    name,
    tenant,
    passwordHash: await hashPassword(password),
    federatedIssuer: null,
    federatedSubject: null,
    role,
    createdAt: new Date(),
    disabledAt: null,
    lastLoginAt: null,
  });
}

export async function addClient(
  db: OAuthDatabase,
  req: Partial<CreateClientRequest> & Pick<CreateClientRequest, 'grant'>,
) {
  return createClient(
    db.oauth,
    {
      name: 'Test client',
      redirectUris: [],
      scopes: ['memory:read', 'memory:write', 'memory:delete'],
      authMethod: 'client_secret_basic',
      ...req,
    },
    new Date(),
  );
}

export interface PublicClient {
  readonly clientId: string;
  readonly redirectUri: string;
}

/** Registers a public client through Dynamic Client Registration, as MCP clients do. */
export async function registerClient(
  origin: string,
  metadata: Record<string, unknown> = {},
): Promise<PublicClient & { response: any }> {
  const redirectUri = 'http://127.0.0.1:1/callback';
  const res = await fetch(`${origin}/oauth/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      // MCP 2026-07-28: clients send application_type; a loopback redirect is a native app's.
      application_type: 'native',
      client_name: 'Flow test app',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      ...metadata,
    }),
  });
  const response = (await res.json()) as any;
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${JSON.stringify(response)}`);
  return { clientId: response.client_id, redirectUri, response };
}

/** An authorization request with PKCE S256; returns the URL and the verifier. */
export function authorizationRequest(
  origin: string,
  client: PublicClient,
  /** `scope` and `resource` undefined: the request leaves them out (OAuth 2.1 lets it). */
  opts: {
    scope: string | undefined;
    resource: string | undefined;
    state?: string;
    extra?: Record<string, string>;
  },
): { url: string; verifier: string } {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${origin}/oauth/auth`);
  const params: Record<string, string> = {
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
    ...(opts.resource !== undefined ? { resource: opts.resource } : {}),
    state: opts.state ?? randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...opts.extra,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { url: url.href, verifier };
}

export async function tokenRequest(
  origin: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${origin}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** The whole code flow for a person: authorize in the test browser, redeem the code. */
export async function codeFlow(
  origin: string,
  browser: TestBrowser,
  client: PublicClient,
  opts: { scope: string; resource: string; person: { name: string; password: string } },
) {
  const { url, verifier } = authorizationRequest(origin, client, opts);
  const callback = await browser.authorize(url, opts.person);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.href}`);
  const token = await tokenRequest(origin, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: client.redirectUri,
    client_id: client.clientId,
    code_verifier: verifier,
    resource: opts.resource,
  });
  if (token.status !== 200) throw new Error(`token request failed: ${JSON.stringify(token.body)}`);
  return { ...(token.body as { access_token: string; refresh_token: string; scope: string }), callback };
}
