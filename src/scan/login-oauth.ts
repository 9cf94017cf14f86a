import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthFacts } from './check-http.js';
import { ScanError } from './errors.js';
import type { HttpTarget } from './http-session.js';
import { postForm, postJson } from './request-token.js';

/**
 * `--oauth`: the client side of MCP authorization, as an MCP client does it — the authorization
 * server from RFC 9728 metadata (already read by the auth checks), Dynamic Client Registration
 * of a native client with a loopback redirect (RFC 8252 §7.3), PKCE S256, `resource` (RFC 8707),
 * and the person's login in their browser. The CLI prints the URL; the code comes back to a
 * listener on 127.0.0.1 that takes exactly one matching callback. (A Client ID Metadata
 * Document needs an https URL the scanner does not have, so registration is the route.)
 */

const b64url = (b: Buffer) => b.toString('base64url');

export interface OAuthLoginOptions {
  /** Shows the authorization URL to the person (stderr in the CLI). */
  readonly openUrl: (url: string) => void;
  /** How long the person has to sign in. */
  readonly timeoutMs: number;
}

function endpoint(auth: AuthFacts, name: string): string {
  const value = auth.asMetadata?.[name];
  if (typeof value !== 'string') {
    throw new ScanError('scan-connect-failed', `--oauth: the authorization server metadata names no ${name}`);
  }
  return value;
}

/** Waits for one GET /callback with the expected state; resolves to its code. */
function awaitCallback(server: http.Server, state: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new ScanError('scan-timeout', `--oauth: no sign-in within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/callback' || url.searchParams.get('state') !== state) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
        return;
      }
      const code = url.searchParams.get('code');
      const error = url.searchParams.get('error');
      res
        .writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
        .end(code ? 'Signed in. You can close this window; the scan goes on.' : 'Sign-in failed.');
      clearTimeout(timer);
      if (code) resolve(code);
      else
        reject(
          new ScanError(
            'scan-connect-failed',
            `--oauth: the authorization was refused (${(error ?? 'no code').slice(0, 60)})`,
          ),
        );
    });
  });
}

/** Runs the login and returns an access token for the target. */
export async function loginWithOAuth(
  target: HttpTarget,
  auth: AuthFacts,
  opts: OAuthLoginOptions,
): Promise<string> {
  const methods = auth.asMetadata?.code_challenge_methods_supported;
  if (!Array.isArray(methods) || !methods.includes('S256')) {
    // MCP authorization: a client MUST refuse to proceed without PKCE S256.
    throw new ScanError('scan-connect-failed', '--oauth: the authorization server does not offer PKCE S256');
  }
  const authorize = endpoint(auth, 'authorization_endpoint');
  const tokenEndpoint = endpoint(auth, 'token_endpoint');
  const registration = endpoint(auth, 'registration_endpoint');
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
    const reg = await postJson(target, registration, {
      client_name: 'portcullis scan',
      application_type: 'native',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const clientId = reg.json.client_id;
    if (reg.status >= 300 || typeof clientId !== 'string') {
      throw new ScanError(
        'scan-connect-failed',
        `--oauth: client registration was refused (HTTP ${reg.status})`,
      );
    }
    const verifier = b64url(randomBytes(32));
    const state = b64url(randomBytes(16));
    const url = new URL(authorize);
    const params: Record<string, string> = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      state,
      resource: auth.resource ?? target.url.href,
      ...(auth.scopesSupported?.length ? { scope: auth.scopesSupported.join(' ') } : {}),
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const code = awaitCallback(server, state, opts.timeoutMs);
    opts.openUrl(url.href);
    const token = await postForm(target, tokenEndpoint, {
      grant_type: 'authorization_code',
      code: await code,
      redirect_uri: redirectUri,
      client_id: clientId,
      code_verifier: verifier,
      resource: params.resource!,
    });
    const access = token.json.access_token;
    if (token.status !== 200 || typeof access !== 'string') {
      throw new ScanError(
        'scan-connect-failed',
        `--oauth: the token request was refused (HTTP ${token.status})`,
      );
    }
    return access;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
