import type { Context } from 'hono';

/**
 * The client's address: the TCP peer, or with `trustProxy` the last hop the proxy appended to
 * X-Forwarded-For. Used for brute-force limits and logs, never for authorisation. Only the last
 * entry is trusted: everything before it was written by the client.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for');
    const last = forwarded?.split(',').pop()?.trim();
    if (last) return last;
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}
