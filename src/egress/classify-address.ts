import ipaddr from 'ipaddr.js';

/** Why an address may not be reached. Stored in error details and audit records verbatim. */
export type BlockedRange =
  | 'invalid'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cloud-metadata'
  | 'carrier-grade-nat'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'unique-local'
  | 'not-global-unicast';

const V4_RANGES: Partial<Record<ReturnType<ipaddr.IPv4['range']>, BlockedRange>> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade-nat',
  private: 'private',
  // ipaddr.js files documentation (RFC 5737), benchmarking (RFC 2544) and 240/4 under `reserved`.
  reserved: 'reserved',
  as112: 'reserved',
  amt: 'reserved',
};

const V6_RANGES: Partial<Record<ReturnType<ipaddr.IPv6['range']>, BlockedRange>> = {
  unspecified: 'unspecified',
  loopback: 'loopback',
  linkLocal: 'link-local',
  multicast: 'multicast',
  uniqueLocal: 'unique-local',
};

const METADATA_V4 = ipaddr.IPv4.parse('169.254.169.254');
const METADATA_V6 = ipaddr.IPv6.parse('fd00:ec2::254');
const GLOBAL_UNICAST_V6: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('2000::'), 3];
const NAT64_LOCAL_V6: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('64:ff9b:1::'), 48];

function v4FromWords(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * The IPv4 addresses an IPv6 address carries inside it, in every encoding a translator or tunnel
 * would act on: an attacker who cannot name 127.0.0.1 tries ::ffff:127.0.0.1, ::127.0.0.1,
 * 2002:7f00:1::, 64:ff9b::7f00:1 or a Teredo address instead, and each of these can end up at the
 * embedded IPv4 host on a dual-stack or NAT64 network.
 */
function embeddedV4(addr: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = addr.parts as [number, number, number, number, number, number, number, number];
  const last32 = v4FromWords(p[6], p[7]);
  // IPv4-compatible (::a.b.c.d, RFC 4291 §2.5.5.1, deprecated but still routed by some stacks).
  // :: and ::1 themselves are left to the range check.
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0) {
    return p[6] === 0 && p[7] <= 1 ? [] : [last32];
  }
  switch (addr.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d
      return [last32];
    case 'rfc6052': {
      // 64:ff9b::/96 puts the address in the last 32 bits. 64:ff9b:1::/48 (RFC 8215) is free for
      // local use with any RFC 6052 prefix length, so judge both plausible placements.
      if (!addr.match(NAT64_LOCAL_V6)) return [last32];
      const b = addr.toByteArray();
      return [new ipaddr.IPv4([b[6] ?? 0, b[7] ?? 0, b[9] ?? 0, b[10] ?? 0]), last32];
    }
    case '6to4': // 2002:AABB:CCDD::/48
      return [v4FromWords(p[1], p[2])];
    case 'teredo': // 2001:0:server:server:flags:port:~client:~client (RFC 4380 §4)
      return [v4FromWords(p[2], p[3]), v4FromWords(~p[6] & 0xffff, ~p[7] & 0xffff)];
    default:
      return [];
  }
}

function classifyV4(addr: ipaddr.IPv4): BlockedRange | undefined {
  if (addr.match(METADATA_V4, 32)) return 'cloud-metadata';
  return V4_RANGES[addr.range()];
}

function classifyV6(addr: ipaddr.IPv6): BlockedRange | undefined {
  if (addr.match(METADATA_V6, 128)) return 'cloud-metadata';
  const embedded = embeddedV4(addr);
  // A translated or tunnelled address is exactly as reachable as the IPv4 host it carries.
  if (embedded.length > 0) return embedded.map(classifyV4).find((r) => r !== undefined);
  const range = addr.range();
  const named = V6_RANGES[range];
  if (named) return named;
  // Documentation, benchmarking, ORCHID, discard and the other special prefixes are never a
  // legitimate destination; ipaddr.js also calls unassigned space such as 4000::/3 "unicast",
  // so require real global unicast (2000::/3).
  if (range !== 'unicast') return 'reserved';
  return addr.match(GLOBAL_UNICAST_V6) ? undefined : 'not-global-unicast';
}

/**
 * Judges one IP address (a literal from a URL, a DNS answer, or a socket's peer). Returns why it
 * is forbidden, or `undefined` when it is a public unicast address.
 */
export function classifyAddress(address: string): BlockedRange | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return 'invalid';
  }
  return parsed.kind() === 'ipv4' ? classifyV4(parsed as ipaddr.IPv4) : classifyV6(parsed as ipaddr.IPv6);
}

/** CIDR ranges an operator lets the guard reach although they are internal. */
export interface AddressAllowList {
  includes(address: string): boolean;
}

/** Parses operator CIDRs (a bare address means a single host). Throws on a malformed entry. */
export function compileAddressAllowList(cidrs: readonly string[]): AddressAllowList {
  const ranges = cidrs.map((entry) => {
    if (ipaddr.isValidCIDR(entry)) return ipaddr.parseCIDR(entry);
    const addr = ipaddr.parse(entry); // throws on garbage
    return [addr, addr.kind() === 'ipv4' ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number];
  });
  return {
    includes(address) {
      if (ranges.length === 0 || !ipaddr.isValid(address)) return false;
      // process() turns ::ffff:a.b.c.d into a.b.c.d so a v4 CIDR covers a dual-stack peer.
      const addr = ipaddr.process(address);
      return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
    },
  };
}

/**
 * Private and loopback ranges, for a service the operator deliberately runs on an internal
 * network (Vault, a SIEM collector). Link-local (cloud metadata) is not among them.
 */
export const INTERNAL_NETWORK_RANGES: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '::1/128',
  'fc00::/7',
];
