import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The request state of an in-band (2026-07-28 input-required) confirmation. It round-trips
 * through the client, so it is attacker-controlled when it comes back: the MRTR pattern's
 * server requirements say state that influences authorisation MUST be integrity-protected and
 * verified. Ours is signed with HMAC-SHA256 under a key only the gateway holds, and binds the
 * answer to one exact call:
 *
 *   "pcs1." b64url(JSON claims) "." b64url(HMAC(key, "portcullis.confirm.v1." + body))
 *
 * The claims are readable by the client (signed, not encrypted) and hold nothing secret: the
 * credential binding, the subject, the OAuth client, the tool, the SHA-256 of the canonical
 * arguments, a random nonce (recorded when used, so the state answers once) and the expiry.
 */
export interface ConfirmationClaims {
  /** Principal.binding: the credential (API key id, or OAuth client + subject). */
  readonly b: string;
  /** Principal.subject. */
  readonly s: string;
  /** OAuth client id; empty for API keys. */
  readonly c: string;
  readonly t: string;
  /** hashArgs() of the call's arguments. */
  readonly h: string;
  readonly n: string;
  /** Expiry, ms since epoch. */
  readonly e: number;
}

export type StateCheck =
  | { readonly ok: true; readonly claims: ConfirmationClaims }
  | {
      readonly ok: false;
      readonly reason: 'confirmation-invalid' | 'confirmation-expired' | 'confirmation-mismatch';
    };

/** What the state must match: the call being retried. */
export interface CallBinding {
  readonly binding: string;
  readonly subject: string;
  readonly clientId: string;
  readonly tool: string;
  readonly argsHash: string;
}

const PREFIX = 'pcs1.';
const DOMAIN = 'portcullis.confirm.v1.';
const mac = (key: Buffer, body: string) =>
  createHmac('sha256', key)
    .update(DOMAIN + body)
    .digest();

export function mintConfirmationState(key: Buffer, call: CallBinding, expiresAt: number): string {
  const claims: ConfirmationClaims = {
    b: call.binding,
    s: call.subject,
    c: call.clientId,
    t: call.tool,
    h: call.argsHash,
    n: randomBytes(16).toString('base64url'),
    e: expiresAt,
  };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${PREFIX}${body}.${mac(key, body).toString('base64url')}`;
}

const isClaims = (v: unknown): v is ConfirmationClaims => {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    ['b', 's', 'c', 't', 'h', 'n'].every((k) => typeof o[k] === 'string') &&
    typeof o.e === 'number' &&
    Number.isFinite(o.e)
  );
};

/**
 * Verifies a state against the call it comes back with. Pure: key and time are passed in.
 * Order matters: the MAC first (nothing of an unsigned state is believed), then expiry, then
 * the binding. The nonce is checked by the caller against the nonce store.
 */
export function verifyConfirmationState(
  key: Buffer,
  state: unknown,
  call: CallBinding,
  now: number,
): StateCheck {
  if (typeof state !== 'string' || state.length > 4096 || !state.startsWith(PREFIX)) {
    return { ok: false, reason: 'confirmation-invalid' };
  }
  const [body, tag, ...rest] = state.slice(PREFIX.length).split('.');
  if (!body || !tag || rest.length > 0) return { ok: false, reason: 'confirmation-invalid' };
  const given = Buffer.from(tag, 'base64url');
  const expected = mac(key, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'confirmation-invalid' };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'confirmation-invalid' };
  }
  if (!isClaims(claims)) return { ok: false, reason: 'confirmation-invalid' };
  if (now >= claims.e) return { ok: false, reason: 'confirmation-expired' };
  if (
    claims.b !== call.binding ||
    claims.s !== call.subject ||
    claims.c !== call.clientId ||
    claims.t !== call.tool ||
    claims.h !== call.argsHash
  ) {
    return { ok: false, reason: 'confirmation-mismatch' };
  }
  return { ok: true, claims };
}
