import { isEgressError } from '../egress/index.js';
import type { AuthFacts } from './check-http.js';
import { ScanError } from './errors.js';
import type { HttpTarget } from './http-session.js';
import { finding, type Finding } from './report.js';
import { isObject } from './session.js';

/**
 * Token requests at the authorization server the target names (RFC 9728 → RFC 8414), through
 * the scan's egress guard: the machine login (`--client-credentials`), and the active probe that
 * asks whether a client anyone can register gets tokens by itself.
 */

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A POST to an authorization-server endpoint through the scan's guard; the JSON answer ({} if none). */
async function post(target: HttpTarget, url: string, body: string, headers: Record<string, string>) {
  try {
    const res = await target.guard.fetch(url, {
      method: 'POST',
      body,
      headers: { accept: 'application/json', ...headers },
    });
    let json: unknown;
    try {
      json = JSON.parse(res.text());
    } catch {
      json = undefined;
    }
    return { status: res.status, json: isObject(json) ? json : {} };
  } catch (err) {
    const why = isEgressError(err) ? err.publicMessage : err instanceof Error ? err.message : String(err);
    throw new ScanError('scan-connect-failed', `${new URL(url).origin}: ${why}`, { cause: err });
  }
}

export const postForm = (
  target: HttpTarget,
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) => post(target, url, form(fields), { 'content-type': 'application/x-www-form-urlencoded', ...headers });

export const postJson = (target: HttpTarget, url: string, body: unknown) =>
  post(target, url, JSON.stringify(body), { 'content-type': 'application/json' });

function tokenEndpointOf(auth: AuthFacts): string {
  const endpoint = auth.asMetadata?.token_endpoint;
  if (typeof endpoint !== 'string') {
    throw new ScanError('scan-connect-failed', 'the authorization server metadata names no token_endpoint');
  }
  return endpoint;
}

/** A client-credentials access token for the target (RFC 6749 §4.4, audience by RFC 8707 `resource`). */
export async function requestClientCredentialsToken(
  target: HttpTarget,
  auth: AuthFacts,
  clientId: string,
  secret: string,
): Promise<string> {
  const res = await postForm(
    target,
    tokenEndpointOf(auth),
    {
      grant_type: 'client_credentials',
      resource: auth.resource ?? target.url.href,
      // Every scope the server names: the authorization server narrows it to the client's own.
      ...(auth.scopesSupported?.length ? { scope: auth.scopesSupported.join(' ') } : {}),
    },
    { authorization: basic(clientId, secret) },
  );
  const token = res.json.access_token;
  if (res.status !== 200 || typeof token !== 'string') {
    const error = typeof res.json.error === 'string' ? res.json.error : `HTTP ${res.status}`;
    throw new ScanError('scan-connect-failed', `the client-credentials token request was refused (${error})`);
  }
  return token;
}

/**
 * `--active`: registers a client for the client_credentials grant (RFC 7591) and asks for a
 * token with it. A token means anyone can mint access with no person behind it. This is the one
 * active probe that leaves something behind on the server: a client registration, named
 * "portcullis-scan probe".
 */
export async function probeSelfRegisteredClientCredentials(
  target: HttpTarget,
  id: string,
  auth: AuthFacts,
): Promise<Finding[]> {
  const endpoint = auth.asMetadata?.registration_endpoint;
  if (typeof endpoint !== 'string' || typeof auth.asMetadata?.token_endpoint !== 'string') return [];
  const reg = await postJson(target, endpoint, {
    client_name: 'portcullis-scan probe',
    application_type: 'web',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  });
  const clientId = reg.json.client_id;
  const secret = reg.json.client_secret;
  if (reg.status >= 300 || typeof clientId !== 'string' || typeof secret !== 'string') return [];
  try {
    await requestClientCredentialsToken(target, auth, clientId, secret);
  } catch {
    return [];
  }
  return [
    finding(
      'auth/self-registered-client-credentials',
      id,
      { kind: 'server' },
      `a client registered at ${endpoint} obtained an access token with the client_credentials grant`,
    ),
  ];
}
