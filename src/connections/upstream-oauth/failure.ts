import { AuthorizationResponseError, ResponseBodyError } from 'openid-client';
import { isEgressError } from '../../egress/index.js';
import type { UpstreamOAuthFailure } from '../upstream-oauth-contract.js';

export const refused = (detail: string): UpstreamOAuthFailure => ({ ok: false, reason: 'refused', detail });
export const unavailable = (detail: string): UpstreamOAuthFailure => ({
  ok: false,
  reason: 'unavailable',
  detail,
});
export const mismatch = (detail: string): UpstreamOAuthFailure => ({ ok: false, reason: 'mismatch', detail });

/**
 * Egress refusals that no retry will change: the guard's policy forbids the URL (scheme, host,
 * address). They are `refused`, so the connection is not kept waiting for an AS that the
 * gateway will never be allowed to reach. Timeouts, network failures and oversized answers are
 * `unavailable`.
 */
const POLICY_CODES = new Set([
  'egress-invalid-url',
  'egress-scheme-not-allowed',
  'egress-userinfo',
  'egress-host-not-allowed',
  'egress-blocked-address',
]);

/**
 * OAuth error codes (RFC 6749 §5.2, RFC 8707 §2, RFC 7009 §2.2.1) that mean "this grant or this
 * request will not be honoured": the person has to connect again or the operator has to fix the
 * registration. Every other error body (server_error, temporarily_unavailable, nonsense) is
 * `unavailable`, and the stored connection is kept.
 */
const REFUSING_OAUTH_ERRORS = new Set([
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'access_denied',
  'invalid_request',
  'unsupported_token_type',
]);

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err, depth = 0; e !== undefined && depth < 6; depth++) {
    chain.push(e);
    e = e instanceof Error ? e.cause : undefined;
  }
  return chain;
}

/**
 * Turns whatever openid-client or the egress guard threw into the contract's tagged failure.
 * `detail` names codes and messages only: tokens, codes and secrets never appear in what the
 * libraries put in their messages, and response bodies are not copied.
 */
export function toFailure(err: unknown, step: string): UpstreamOAuthFailure {
  const chain = causes(err);
  const egress = chain.find(isEgressError);
  if (egress) {
    const detail = `${step}: ${egress.code}: ${egress.detail ?? egress.publicMessage}`;
    return POLICY_CODES.has(egress.code) ? refused(detail) : unavailable(detail);
  }
  const body = chain.find((e): e is ResponseBodyError => e instanceof ResponseBodyError);
  if (body) {
    const detail = `${step}: the authorization server answered HTTP ${body.status} ${body.error}${
      body.error_description ? ` (${body.error_description.slice(0, 200)})` : ''
    }`;
    return body.status < 500 && REFUSING_OAUTH_ERRORS.has(body.error) ? refused(detail) : unavailable(detail);
  }
  const authz = chain.find((e): e is AuthorizationResponseError => e instanceof AuthorizationResponseError);
  if (authz) return refused(`${step}: the authorization response is an error: ${authz.error}`);
  const first = chain[0];
  const code = first instanceof Error && 'code' in first ? ` [${String(first.code)}]` : '';
  const message = first instanceof Error ? first.message : String(first);
  return unavailable(`${step}: ${message.slice(0, 300)}${code}`);
}
