import { isIP } from 'node:net';
import { classifyAddress, type AddressAllowList } from './classify-address.js';
import { EgressError } from './errors.js';
import { normaliseHost, type HostPatterns } from './match-host.js';

/** What a URL must satisfy before the guard opens a connection for it. */
export interface UrlPolicy {
  readonly allowHosts: HostPatterns;
  readonly allowHttpHosts: HostPatterns;
  readonly allowAddresses: AddressAllowList;
}

/**
 * Checks a URL (the first request or a redirect target) before any connection: scheme, userinfo,
 * host allow-list, and — for IP literals, which never reach the DNS lookup — the address itself.
 * Parsing with WHATWG URL first means `2130706433`, `0x7f.1`, `017700000001` and `127.1` have
 * already become `127.0.0.1` here, so the address check sees what the socket would connect to.
 */
export function checkUrl(input: string | URL, policy: UrlPolicy, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch (err) {
    throw new EgressError('egress-invalid-url', 'Refused: the URL could not be parsed.', { cause: err });
  }
  const host = normaliseHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttpHosts.matches(host))) {
    const allowed =
      url.protocol === 'http:'
        ? 'plain http is not allowed for this host; use https'
        : 'only https URLs may be fetched';
    throw new EgressError('egress-scheme-not-allowed', `Refused: ${allowed} (got "${url.protocol}").`);
  }
  // `https://allowed.example@10.0.0.1/` reads as the allowed host to a person and to a naive
  // check; credentials in URLs are refused outright (callers pass headers instead).
  if (url.username !== '' || url.password !== '') {
    throw new EgressError('egress-userinfo', 'Refused: URLs with a user name or password are not allowed.');
  }
  if (host === '' || !policy.allowHosts.matches(host)) {
    throw new EgressError(
      'egress-host-not-allowed',
      `Refused: host "${host}" is not on this gateway's egress allow-list.`,
    );
  }
  if (isIP(host) !== 0) assertAddressAllowed(host, host, policy.allowAddresses);
  return url;
}

/**
 * Throws unless `address` is public or inside an operator-allowed CIDR. `host` is what the caller
 * named; only it appears in the public message, the address goes to the private detail.
 */
export function assertAddressAllowed(address: string, host: string, allow: AddressAllowList): void {
  if (allow.includes(address)) return;
  const blocked = classifyAddress(address);
  if (blocked === undefined) return;
  throw new EgressError(
    'egress-blocked-address',
    `Refused: "${host}" is an internal or reserved network address that this gateway may not reach.`,
    { detail: `${address} is ${blocked}` },
  );
}
