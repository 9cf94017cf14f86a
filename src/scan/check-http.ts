import { createPublicKey, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { isScanError } from './errors.js';
import { isLoopbackUrl } from './create-scan-guard.js';
import { openHttpSession, type HttpExchange, type HttpSession, type HttpTarget } from './http-session.js';
import { finding, type Finding } from './report.js';
import { isObject } from './session.js';

/**
 * The checks an HTTP endpoint answers on the wire: transport (TLS, HSTS, Origin, CORS, session
 * ids) and authentication (what a request without a credential, with a forged one, or with the
 * real one in the query string gets; RFC 9728 and RFC 8414 metadata). Every request here is a
 * listing or a handshake — never a tool call.
 */

const FOREIGN_ORIGIN = 'https://portcullis-scan.invalid';
const SERVER = { kind: 'server' } as const;

/** What the authentication checks learnt, for the checks that need it later. */
export interface AuthFacts {
  /** The server refused a request without a credential. */
  readonly required: boolean;
  readonly scopesSupported?: readonly string[];
  readonly resource?: string;
  readonly issuer?: string;
  readonly asMetadata?: Record<string, unknown>;
}

/** Opens a session and lists tools: how many were listed, or the refusal (of the handshake or the listing). */
async function toolsListedWith(target: HttpTarget): Promise<{ count?: number; refusal?: HttpExchange }> {
  const open = await openHttpSession(target);
  if (open.kind !== 'open') return { refusal: open.exchange };
  try {
    const reply = await open.session.request('tools/list', {});
    const tools = reply.result?.tools;
    if (Array.isArray(tools)) return { count: tools.length };
    return { refusal: { status: reply.status ?? 0, headers: reply.headers ?? new Headers(), text: '' } };
  } finally {
    await open.session.close();
  }
}

function parseChallenge(header: string | null): Record<string, string> | undefined {
  if (header === null) return undefined;
  const m = /^\s*Bearer\b(.*)$/i.exec(header);
  if (!m) return {};
  const params: Record<string, string> = {};
  for (const p of m[1]!.matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  }
  return params;
}

async function fetchJson(target: HttpTarget, url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await target.guard.fetch(url, { headers: { accept: 'application/json' } });
    if (res.status !== 200) return undefined;
    const body: unknown = JSON.parse(res.text());
    return isObject(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

const withPath = (origin: string, wellKnown: string, path: string) =>
  `${origin}/.well-known/${wellKnown}${path === '/' ? '' : path.replace(/\/$/, '')}`;
const sameUrl = (a: string, b: string) => a.replace(/\/$/, '') === b.replace(/\/$/, '');
const BROAD_SCOPES =
  /^(?:\*|all|admin|root|superuser|full|full[_-]?access|everything|\*:\*|[\w-]+:\*|write:\*|read_write_all)$/i;

/** The 401 challenge, RFC 9728 resource metadata and RFC 8414 authorization-server metadata. */
async function checkAuthMetadata(
  target: HttpTarget,
  id: string,
  refusal: HttpExchange,
  out: Finding[],
): Promise<AuthFacts> {
  const challenge =
    refusal.status === 401 ? parseChallenge(refusal.headers.get('www-authenticate')) : undefined;
  if (refusal.status === 401 && challenge === undefined) {
    out.push(finding('auth/missing-www-authenticate', id, SERVER, '401 without a WWW-Authenticate header'));
  }
  const url = target.url;
  const candidates = [
    ...(challenge?.resource_metadata ? [challenge.resource_metadata] : []),
    withPath(url.origin, 'oauth-protected-resource', url.pathname),
    `${url.origin}/.well-known/oauth-protected-resource`,
  ];
  let prm: Record<string, unknown> | undefined;
  for (const c of [...new Set(candidates)]) {
    prm = await fetchJson(target, c);
    if (prm) break;
  }
  if (!prm) {
    out.push(
      finding(
        'auth/missing-resource-metadata',
        id,
        SERVER,
        `no RFC 9728 metadata${challenge && !challenge.resource_metadata ? '; the challenge has no resource_metadata' : ''} (tried ${[...new Set(candidates)].length} locations)`,
      ),
    );
    return { required: true };
  }
  const resource = typeof prm.resource === 'string' ? prm.resource : undefined;
  if (resource === undefined || !sameUrl(resource, url.href)) {
    out.push(
      finding(
        'auth/resource-metadata-mismatch',
        id,
        SERVER,
        `resource is ${JSON.stringify(resource ?? null)}, the endpoint is ${url.href}`,
      ),
    );
  }
  const scopes = Array.isArray(prm.scopes_supported)
    ? prm.scopes_supported.filter((s) => typeof s === 'string')
    : undefined;
  const broad = (scopes ?? []).filter((s) => BROAD_SCOPES.test(s));
  if (broad.length > 0) {
    out.push(finding('authz/broad-scope', id, SERVER, `scopes_supported includes ${broad.join(', ')}`));
  }
  const issuer = Array.isArray(prm.authorization_servers)
    ? prm.authorization_servers.find((s) => typeof s === 'string')
    : undefined;
  const facts = {
    required: true,
    ...(scopes ? { scopesSupported: scopes } : {}),
    ...(resource ? { resource } : {}),
  };
  if (typeof issuer !== 'string') {
    out.push(
      finding('auth/as-metadata-missing', id, SERVER, 'the resource metadata names no authorization_servers'),
    );
    return facts;
  }
  let as: Record<string, unknown> | undefined;
  let asUrl: URL | undefined;
  try {
    asUrl = new URL(issuer);
  } catch {
    // reported below as missing metadata
  }
  if (asUrl) {
    for (const c of [
      withPath(asUrl.origin, 'oauth-authorization-server', asUrl.pathname),
      withPath(asUrl.origin, 'openid-configuration', asUrl.pathname),
      `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
    ]) {
      as = await fetchJson(target, c);
      if (as) break;
    }
  }
  if (!as) {
    out.push(finding('auth/as-metadata-missing', id, SERVER, `no RFC 8414 or OpenID metadata for ${issuer}`));
    return { ...facts, issuer };
  }
  if (as.issuer !== issuer) {
    out.push(
      finding(
        'auth/as-issuer-mismatch',
        id,
        SERVER,
        `issuer is ${JSON.stringify(as.issuer ?? null)}, expected ${issuer}`,
      ),
    );
  }
  const methods = Array.isArray(as.code_challenge_methods_supported)
    ? as.code_challenge_methods_supported
    : [];
  if (!methods.includes('S256')) {
    out.push(
      finding(
        'auth/pkce-missing',
        id,
        SERVER,
        `code_challenge_methods_supported: ${JSON.stringify(methods)}`,
      ),
    );
  }
  if (methods.includes('plain')) {
    out.push(
      finding('auth/pkce-plain-allowed', id, SERVER, 'code_challenge_methods_supported includes plain'),
    );
  }
  if (typeof as.registration_endpoint === 'string') {
    out.push(
      finding('auth/open-registration', id, SERVER, `registration_endpoint ${as.registration_endpoint}`),
    );
  }
  return { ...facts, issuer, asMetadata: as };
}

/** Tokens made without any secret: each must be refused. */
async function forgedTokens(facts: AuthFacts, target: HttpTarget): Promise<[string, string][]> {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: facts.issuer ?? target.url.origin,
    aud: facts.resource ?? target.url.href,
    sub: 'portcullis-scan-forged',
    scope: (facts.scopesSupported ?? []).join(' '),
    iat: now,
    exp: now + 300,
  };
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const tokens: [string, string][] = [
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`],
    [
      'garbage signature',
      `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.${randomBytes(256).toString('base64url')}`,
    ],
  ];
  const own = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(own.publicKey);
  tokens.push([
    'embedded jwk header',
    await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', jwk }).sign(own.privateKey),
  ]);
  tokens.push([
    'jku header',
    await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', jku: 'https://portcullis-scan.invalid/jwks.json', kid: 'scan' })
      .sign(own.privateKey),
  ]);
  // Algorithm confusion: HS256 keyed with the server's own published public key.
  const jwksUri = facts.asMetadata?.jwks_uri;
  if (typeof jwksUri === 'string') {
    const jwks = await fetchJson(target, jwksUri);
    const key = Array.isArray(jwks?.keys)
      ? (jwks.keys as unknown[]).find((k) => isObject(k) && k.kty === 'RSA')
      : undefined;
    if (isObject(key)) {
      try {
        const pem = createPublicKey({ key: key as JWK & Record<string, string>, format: 'jwk' }).export({
          type: 'spki',
          format: 'pem',
        });
        const header = { alg: 'HS256', ...(typeof key.kid === 'string' ? { kid: key.kid } : {}) };
        tokens.push([
          'HS256 keyed with the published RSA key',
          await new SignJWT(claims).setProtectedHeader(header).sign(Buffer.from(String(pem))),
        ]);
      } catch {
        // A key Node cannot read is not one this check can use.
      }
    }
  }
  return tokens;
}

export interface HttpCheckResult {
  readonly findings: Finding[];
  readonly auth: AuthFacts;
  /** Whether a client with no credential could list the tools (then the inventory is read so). */
  readonly listedWithoutCredential: boolean;
  /** The status of the refusal without a credential, when there was one. */
  readonly refusedStatus?: number;
}

/** The checks made before the inventory: transport and authentication. */
export async function checkHttpEndpoint(target: HttpTarget, id: string): Promise<HttpCheckResult> {
  const out: Finding[] = [];
  const url = target.url;
  if (url.protocol === 'http:' && !isLoopbackUrl(url)) {
    out.push(finding('transport/plain-http', id, SERVER, `${url.origin} is plain HTTP and not on loopback`));
  }
  const anonymous: HttpTarget = { ...target, credential: {} };
  const unauth = await toolsListedWith(anonymous);
  const first = unauth.refusal;
  if (url.protocol === 'https:' && first && !first.headers.has('strict-transport-security')) {
    out.push(finding('transport/no-hsts', id, SERVER, 'no Strict-Transport-Security header'));
  }
  let auth: AuthFacts = { required: false };
  if (unauth.count !== undefined) {
    out.push(
      finding(
        'auth/no-credential-required',
        id,
        SERVER,
        `${unauth.count} tool(s) listed by a request with no credential`,
        unauth.count > 0 ? 'critical' : 'medium',
      ),
    );
  } else if (first && (first.status === 401 || first.status === 403)) {
    auth = await checkAuthMetadata(target, id, first, out);
    for (const [variant, token] of await forgedTokens(auth, target)) {
      const forged = await toolsListedWith({ ...target, credential: { authorization: `Bearer ${token}` } });
      if (forged.count !== undefined) {
        out.push(
          finding(
            'auth/forged-token-accepted',
            id,
            { kind: 'server', path: variant },
            `a token with ${variant} listed ${forged.count} tool(s)`,
          ),
        );
      }
    }
  }
  return {
    findings: out,
    auth,
    listedWithoutCredential: unauth.count !== undefined,
    ...(first ? { refusedStatus: first.status } : {}),
  };
}

/** A server that requires a credential must not take the real token from the query string. */
export async function checkQueryToken(target: HttpTarget, id: string): Promise<Finding[]> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(target.credential.authorization ?? '')?.[1];
  if (bearer === undefined) return [];
  const inQuery = new URL(target.url);
  inQuery.searchParams.set('access_token', bearer);
  const viaQuery = await toolsListedWith({ ...target, credential: {}, url: inQuery });
  return viaQuery.count === undefined
    ? []
    : [
        finding(
          'auth/query-token-accepted',
          id,
          SERVER,
          'the token in ?access_token= listed tools without an Authorization header',
        ),
      ];
}

/** Origin, CORS and session checks, on the session the inventory was read with. */
export async function checkHttpSession(
  target: HttpTarget,
  id: string,
  session: HttpSession,
  auth: AuthFacts,
): Promise<Finding[]> {
  const out: Finding[] = [];
  const foreign = await session.exchange('tools/list', {}, { headers: { origin: FOREIGN_ORIGIN } });
  if (foreign.status < 300 && foreign.reply?.result) {
    out.push(
      finding(
        'transport/foreign-origin-accepted',
        id,
        SERVER,
        `a request with Origin: ${FOREIGN_ORIGIN} was answered ${foreign.status}`,
        isLoopbackUrl(target.url) || !auth.required ? 'high' : 'medium',
      ),
    );
  }
  try {
    const preflight = await target.guard.fetch(target.url, {
      method: 'OPTIONS',
      headers: {
        origin: FOREIGN_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, mcp-protocol-version',
      },
    });
    const allow = preflight.headers.get('access-control-allow-origin');
    if (allow === '*' || allow === FOREIGN_ORIGIN) {
      const creds = preflight.headers.get('access-control-allow-credentials') === 'true';
      out.push(
        finding(
          'transport/wildcard-cors',
          id,
          SERVER,
          `preflight from ${FOREIGN_ORIGIN} got Access-Control-Allow-Origin: ${allow}${creds ? ' with credentials' : ''}`,
          allow === FOREIGN_ORIGIN && creds ? 'high' : 'medium',
        ),
      );
    }
  } catch (err) {
    if (!isScanError(err)) {
      // A failed preflight is a server that does no CORS at all: nothing to report.
    }
  }
  const sid = session.sessionId;
  if (sid !== undefined) {
    const distinct = new Set(sid).size;
    if (sid.length < 16 || distinct < 8) {
      out.push(
        finding(
          'transport/weak-session-id',
          id,
          SERVER,
          `Mcp-Session-Id of ${sid.length} characters (${distinct} distinct)`,
        ),
      );
    }
    if (auth.required) {
      const bare = await session.exchange('tools/list', {}, { credential: false });
      if (bare.status < 300 && bare.reply?.result) {
        out.push(
          finding(
            'transport/session-not-bound',
            id,
            SERVER,
            'tools/list with the session id and no credential was answered',
          ),
        );
      }
    }
  }
  return out;
}
