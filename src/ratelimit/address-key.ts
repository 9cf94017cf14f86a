import ipaddr from 'ipaddr.js';

/**
 * The key a client address is counted under, by every per-address budget (connections, the
 * OAuth and registration limits, failed authentications, sign-in guesses): an IPv4 address
 * (also when written IPv4-mapped, `::ffff:a.b.c.d`), or the /64 of an IPv6 one. One subscriber
 * usually holds a whole /64 (RFC 6177), so counting single IPv6 addresses would give one host
 * 2^64 budgets; and one IPv4 host must not get a second budget for a second spelling.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || !ipaddr.isValid(address)) return address ?? 'unknown';
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`;
}
