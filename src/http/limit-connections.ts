import type { Server, Socket } from 'node:net';
import { addressKey } from '../ratelimit/index.js';

// The connection cap counts addresses as every other per-address budget does.
export { addressKey };

/** The listener's connection limits and timeouts, as the `server.connections` config gives them. */
export interface ConnectionLimits {
  readonly maxTotal: number;
  /** Open connections allowed per client address; 0: not limited per address. */
  readonly maxPerAddress: number;
  readonly headersTimeoutSeconds: number;
  readonly requestTimeoutSeconds: number;
  readonly keepAliveTimeoutSeconds: number;
}

/**
 * The per-address cap when none is configured: 64, or off behind a trusted proxy, where every
 * connection comes from the proxy (which must then cap its clients itself).
 */
export const defaultMaxPerAddress = (trustProxy: boolean): number => (trustProxy ? 0 : 64);

/**
 * Options for `http.createServer` / `https.createServer`. Node's defaults hold a connection that
 * never finishes its request head for 60 s and a slow body for 300 s, and check only every 30 s:
 * a few thousand such sockets from one address exhaust the file descriptors of the process.
 * Timeouts end with 408 and a closed socket. `requestTimeout` covers receiving the request only,
 * so a long response stream (SSE) is not cut.
 */
export function listenerOptions(limits: ConnectionLimits, tls: boolean) {
  const headersTimeout = limits.headersTimeoutSeconds * 1000;
  return {
    headersTimeout,
    requestTimeout: limits.requestTimeoutSeconds * 1000,
    keepAliveTimeout: limits.keepAliveTimeoutSeconds * 1000,
    // How often Node looks for expired requests; its 30 s default would stretch every timeout.
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
    // A TLS handshake that never finishes holds a socket for 120 s by default.
    ...(tls ? { handshakeTimeout: headersTimeout } : {}),
  };
}

/**
 * Caps the open connections of a listener in total (Node closes any beyond `maxConnections` as
 * it accepts them) and per client address (closed here, before a byte is read). Counted on the
 * TCP peer: behind a reverse proxy that is the proxy, whose own per-client limit then applies.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  server.maxConnections = limits.maxTotal;
  if (limits.maxPerAddress === 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress);
    const count = open.get(key) ?? 0;
    if (count >= limits.maxPerAddress) {
      socket.destroy();
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
}
