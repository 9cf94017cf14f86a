import { timingSafeEqual } from 'node:crypto';
import type { PendingAuthorization, UpstreamOAuthFailure } from '../upstream-oauth-contract.js';
import { mismatch, refused } from './failure.js';

/** What the AS says about itself that the callback is checked against. */
export interface CallbackIssuer {
  /** The issuer discovered now (it must still be the one the request went to). */
  readonly issuer: string;
  /** RFC 9207 §3: `authorization_response_iss_parameter_supported`. */
  readonly issParameterSupported: boolean;
}

function equalSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks an authorization response against the pending request (pure), before any code is
 * redeemed. openid-client repeats the state and `iss` checks; they are made here first so that
 * each one has its own reason and an unmatched callback never reaches the token endpoint.
 *
 * - RFC 6749 §4.1.2 / §10.12: `state` must be the one this request sent (CSRF, and a code
 *   planted from another person's or another pending request). Compared in constant time.
 * - RFC 6749 §3.1: no parameter twice (which one would the library read?).
 * - RFC 9207 §2.4: an `iss` must equal the issuer the request went to; when the AS advertises
 *   the parameter, a response without it is refused (mix-up attack).
 * - An `error` response with the right state is the AS's refusal (consent denied): `refused`.
 */
export function checkCallback(
  pending: PendingAuthorization,
  params: URLSearchParams,
  as: CallbackIssuer,
): { readonly ok: true; readonly code: string } | UpstreamOAuthFailure {
  for (const name of ['state', 'code', 'iss', 'error']) {
    if (params.getAll(name).length > 1)
      return mismatch(`callback: parameter "${name}" appears more than once`);
  }
  const state = params.get('state');
  if (state === null) return mismatch('callback: no state');
  if (!equalSecret(state, pending.state)) return mismatch('callback: state is not the pending request’s');
  if (as.issuer !== pending.issuer) {
    return mismatch(`callback: the upstream's AS is now ${as.issuer}, the request went to ${pending.issuer}`);
  }
  const iss = params.get('iss');
  if (iss !== null && iss !== pending.issuer) {
    return mismatch(`callback: iss ${JSON.stringify(iss)} is not ${pending.issuer}`);
  }
  if (iss === null && as.issParameterSupported) {
    return mismatch('callback: no iss although the AS advertises RFC 9207');
  }
  const error = params.get('error');
  if (error !== null) return refused(`callback: the authorization server answered ${error.slice(0, 64)}`);
  const code = params.get('code');
  if (code === null || code === '') return mismatch('callback: no code');
  return { ok: true, code };
}
