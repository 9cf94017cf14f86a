import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/**
 * Why a JWT access token was refused. A closed set stored verbatim in logs and the audit
 * record; on the wire every one of them is the same `invalid_token` (RFC 6750 §3.1), so a
 * prober learns nothing about which check failed.
 */
export type TokenFailureReason =
  | 'token-malformed'
  | 'token-header-forbidden'
  | 'token-alg-not-allowed'
  | 'token-wrong-type'
  | 'token-key-unknown'
  | 'token-signature-invalid'
  | 'token-wrong-issuer'
  | 'token-wrong-audience'
  | 'token-expired'
  | 'token-not-yet-valid'
  | 'token-issued-in-future'
  | 'token-claims-missing';

/** The claims the gateway acts on, taken from a token that passed every check. */
export interface VerifiedAccessToken {
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly jti: string;
  readonly expiresAt: Date;
  /** The grant the token was issued under (built-in AS, user grants only). */
  readonly grantId?: string;
  readonly tenant?: string;
}

export type VerifyResult =
  | { readonly ok: true; readonly token: VerifiedAccessToken }
  | { readonly ok: false; readonly reason: TokenFailureReason };

export interface VerifyOptions {
  /** Where keys come from: a local key set (built-in AS) or a remote JWKS (external AS). */
  readonly keys: JWTVerifyGetKey;
  /** Explicit allow-list; `none` and every HS* are never accepted, whatever is listed. */
  readonly algorithms: readonly string[];
  readonly issuer: string;
  readonly audience: string;
  /** Require the RFC 9068 header `typ: at+jwt`. */
  readonly requireTyp: boolean;
  readonly clockToleranceSeconds: number;
  /** Claims that must be present besides iss/aud/exp/sub. */
  readonly requiredClaims: readonly string[];
  /** Claim carrying the space-separated scopes. */
  readonly scopeClaim: string;
  /** Claim naming the tenant, if tokens carry one. */
  readonly tenantClaim?: string;
}

/**
 * Header members that tell a verifier where to get a key. A verifier that honours them lets
 * the token choose its own key, so their mere presence is refused: our keys come only from
 * configuration (RFC 8725 §3.10 and §2.7 on header-supplied keys).
 */
const KEY_LOCATING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];

const SYMMETRIC_OR_NONE = /^(none|HS\d+)$/i;

function mapJoseError(err: unknown): TokenFailureReason {
  if (err instanceof errors.JWTExpired) return 'token-expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'iss':
        return 'token-wrong-issuer';
      case 'aud':
        return 'token-wrong-audience';
      case 'nbf':
        return 'token-not-yet-valid';
      case 'iat':
        return err.reason === 'check_failed' ? 'token-issued-in-future' : 'token-claims-missing';
      case 'typ':
        return 'token-wrong-type';
      default:
        return 'token-claims-missing';
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token-alg-not-allowed';
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return 'token-key-unknown';
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token-signature-invalid';
  return 'token-malformed';
}

const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';

/**
 * Verifies a JWT access token: signature by an allowed algorithm and a configured key, issuer,
 * audience, `typ`, exp/nbf/iat with a small clock tolerance, and the required claims. Pure apart
 * from the key lookup: the time is an argument.
 */
export async function verifyAccessToken(
  token: string,
  opts: VerifyOptions,
  now: Date,
): Promise<VerifyResult> {
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return { ok: false, reason: 'token-malformed' };
  }
  if (token.split('.').length !== 3) return { ok: false, reason: 'token-malformed' };
  if (KEY_LOCATING_HEADERS.some((h) => h in header)) return { ok: false, reason: 'token-header-forbidden' };
  const algorithms = opts.algorithms.filter((a) => !SYMMETRIC_OR_NONE.test(a));
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
    return { ok: false, reason: 'token-alg-not-allowed' };
  }

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, opts.keys, {
      algorithms,
      issuer: opts.issuer,
      audience: opts.audience,
      ...(opts.requireTyp ? { typ: 'at+jwt' } : {}),
      clockTolerance: opts.clockToleranceSeconds,
      currentDate: now,
      requiredClaims: ['iss', 'aud', 'exp', 'sub', ...opts.requiredClaims],
    }));
  } catch (err) {
    return { ok: false, reason: mapJoseError(err) };
  }

  // jose checks `iat` only for type; a token minted in the future means a broken or hostile
  // issuer clock, and would outlive its stated lifetime.
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds + opts.clockToleranceSeconds) {
    return { ok: false, reason: 'token-issued-in-future' };
  }
  const clientId = payload.client_id ?? payload.azp;
  const scope = payload[opts.scopeClaim];
  const tenant = opts.tenantClaim ? payload[opts.tenantClaim] : undefined;
  if (
    !isNonEmptyString(payload.sub) ||
    !isNonEmptyString(clientId) ||
    (scope !== undefined && typeof scope !== 'string') ||
    (tenant !== undefined && !isNonEmptyString(tenant))
  ) {
    return { ok: false, reason: 'token-claims-missing' };
  }
  const jti = isNonEmptyString(payload.jti)
    ? payload.jti
    : `${clientId}:${payload.sub}:${String(payload.iat)}`;
  return {
    ok: true,
    token: {
      subject: payload.sub,
      clientId,
      scopes: new Set((scope ?? '').split(' ').filter(Boolean)),
      jti,
      expiresAt: new Date(payload.exp! * 1000),
      ...(isNonEmptyString(payload.grant_id) ? { grantId: payload.grant_id } : {}),
      ...(isNonEmptyString(tenant) ? { tenant } : {}),
    },
  };
}
