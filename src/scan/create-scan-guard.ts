import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { classifyAddress, createEgressGuard, type EgressGuard } from '../egress/index.js';
import { ScanError } from './errors.js';

/** The largest HTTP body the scanner reads; a bigger answer is a finding of its own, not a buffer. */
export const MAX_HTTP_BYTES = 4 * 1024 * 1024;

/**
 * The scan's way out to the network: the gateway's egress guard, opened exactly as wide as the
 * scan needs. Any public https host (the authorization server may live elsewhere); plain http
 * only to the target's own host; of the internal addresses, only the ones the target's own name
 * resolves to now. So a hostile server that points its metadata, its authorization server or a
 * redirect at 169.254.169.254 or another internal host does not get the scanner to fetch it.
 */
export async function createScanGuard(url: URL, timeoutMs: number): Promise<EgressGuard> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host)
      ? [host]
      : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch (err) {
    throw new ScanError('scan-connect-failed', `${url.origin}: the host name does not resolve`, {
      cause: err,
    });
  }
  const internal = addresses.filter((a) => classifyAddress(a) !== undefined);
  return createEgressGuard({
    allowHosts: ['*'],
    allowHttpHosts: url.protocol === 'http:' ? [url.hostname] : [],
    allowAddresses: internal.map((a) => (isIP(a) === 6 ? `${a}/128` : `${a}/32`)),
    maxRedirects: 3,
    maxBytes: MAX_HTTP_BYTES,
    timeoutMs,
  });
}

/** Whether the target is on this machine: plain HTTP and missing Origin checks weigh differently. */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    (isIP(host) !== 0 && classifyAddress(host) === 'loopback')
  );
}
