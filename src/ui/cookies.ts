/**
 * Cookies of our pages. Over https they are `__Host-` cookies: Secure, Path=/, no Domain, so no
 * sibling subdomain or plain-http page can set or overwrite them. Over http (a loopback
 * development gateway) browsers refuse Secure cookies on most hosts, so the prefix and the
 * Secure flag are dropped there; HttpOnly and SameSite=Lax always apply.
 */
export interface CookiePolicy {
  readonly secure: boolean;
}

export function cookieName(base: string, policy: CookiePolicy): string {
  return policy.secure ? `__Host-${base}` : base;
}

export function serializeCookie(
  name: string,
  value: string,
  policy: CookiePolicy,
  opts: { maxAgeSeconds?: number } = {},
): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (policy.secure) parts.push('Secure');
  if (opts.maxAgeSeconds !== undefined) parts.push(`Max-Age=${opts.maxAgeSeconds}`);
  return parts.join('; ');
}

export function clearCookie(name: string, policy: CookiePolicy): string {
  return serializeCookie(name, '', policy, { maxAgeSeconds: 0 });
}

/** One cookie's value from a Cookie header; undefined when absent. */
export function readCookie(header: string | undefined | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
