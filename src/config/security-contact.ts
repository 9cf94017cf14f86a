/**
 * RFC 9116 §2.5.3: a Contact value MUST be a URI (RFC 3986), and a web URI MUST use https. We take
 * the two an operator means — a `mailto:` address or an `https:` page — and nothing that could break
 * the line-oriented security.txt format (no whitespace or control characters, so no injected
 * fields).
 */
export function isSecurityContactUri(value: string): boolean {
  if (/[\s\p{Cc}]/u.test(value)) return false;
  const url = URL.parse(value);
  if (!url) return false;
  if (url.protocol === 'https:') return url.hostname !== '' && url.username === '' && url.password === '';
  if (url.protocol === 'mailto:') return /^[^@/?#]+@[^@/?#]+$/.test(url.pathname);
  return false;
}

export const SECURITY_CONTACT_RULE = 'a mailto: address or an https: URL (RFC 9116 §2.5.3)';
