import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { cookieName, readCookie, serializeCookie, type CookiePolicy } from './cookies.js';

/**
 * CSRF protection for every form: a random per-browser secret in an HttpOnly cookie, and in
 * each form a token that is an HMAC of that secret and the form's purpose (e.g. the
 * interaction id) under a server key. A forged cross-site POST carries the cookie but cannot
 * know the token; a token lifted from one form is useless on another. SameSite=Lax and the
 * gateway's Origin check are further layers, not the only one.
 */
export interface Csrf {
  /** The token for a form, and a Set-Cookie header when the browser has no secret yet. */
  issue(cookieHeader: string | undefined | null, purpose: string): { token: string; setCookie?: string };
  verify(cookieHeader: string | undefined | null, purpose: string, token: unknown): boolean;
}

export function createCsrf(key: string, policy: CookiePolicy): Csrf {
  const name = cookieName('pcs_csrf', policy);
  const mac = (secret: string, purpose: string) =>
    createHmac('sha256', key).update(`${secret}\u0000${purpose}`).digest('base64url');
  return {
    issue(cookieHeader, purpose) {
      const existing = readCookie(cookieHeader, name);
      if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return { token: mac(existing, purpose) };
      const secret = randomBytes(32).toString('base64url');
      return { token: mac(secret, purpose), setCookie: serializeCookie(name, secret, policy) };
    },
    verify(cookieHeader, purpose, token) {
      const secret = readCookie(cookieHeader, name);
      if (!secret || typeof token !== 'string') return false;
      const expected = Buffer.from(mac(secret, purpose));
      const given = Buffer.from(token);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
