import type { Principal } from './principal.js';

/**
 * The bearer token a request presented, kept beside its principal for the one use that needs the
 * token itself: RFC 8693 token exchange at an upstream's authorization server (the caller's own
 * Portcullis token is the subject token). A WeakMap, not a field: the principal is logged,
 * audited and copied freely, and the token must reach none of that. It lives exactly as long as
 * the principal object of that request.
 */
const presented = new WeakMap<Principal, string>();

/** Remembers the OAuth access token `principal` was authenticated from. */
export function rememberPresentedToken(principal: Principal, token: string): void {
  presented.set(principal, token);
}

/** The access token this request's principal came from; undefined for API keys and copies not carried. */
export function presentedToken(principal: Principal): string | undefined {
  return presented.get(principal);
}

/** A derived principal (scopes capped) keeps the token of the one it came from. */
export function carryPresentedToken(from: Principal, to: Principal): Principal {
  const token = presented.get(from);
  if (token !== undefined) presented.set(to, token);
  return to;
}
