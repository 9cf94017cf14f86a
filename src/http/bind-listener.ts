import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Config } from '../config/index.js';
import { defaultMaxPerAddress, limitConnections, listenerOptions } from './limit-connections.js';

type FetchHandler = (request: Request, env: unknown) => Response | Promise<Response>;

/** The gateway's listener, bound to its port; it answers with the app once `serve` is called. */
export interface BoundListener {
  /** The port bound (the configured one, or the one the system chose for port 0). */
  readonly port: number;
  /**
   * Starts answering with the app. The app is built from the bound port (the public URL may
   * depend on it), so it comes after binding; the composition root builds it without awaiting
   * anything in between, and a request that nonetheless came first is answered 503.
   */
  serve(fetch: FetchHandler): void;
  /** Stops listening and ends open connections; calling it again waits for the same close. */
  close(): Promise<void>;
}

/** Binds the MCP/HTTP listener (TLS when configured) with its connection limits and timeouts. */
export function bindListener(server: Config['server']): Promise<BoundListener> {
  const { tls, host, port } = server;
  const limits = {
    ...server.connections,
    maxPerAddress: server.connections.maxPerAddress ?? defaultMaxPerAddress(server.trustProxy),
  };
  const options = {
    ...listenerOptions(limits, tls !== undefined),
    ...(tls ? { cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) } : {}),
  };
  const listener = tls ? https.createServer(options) : http.createServer(options);
  const notYet = (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(503).end();
  listener.on('request', notYet);
  limitConnections(listener, limits);
  let closed: Promise<void> | undefined;
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      resolve({
        port: (listener.address() as AddressInfo).port,
        serve(fetch) {
          listener.off('request', notYet);
          const handle = getRequestListener(fetch, { hostname: host });
          listener.on('request', (req, res) => void handle(req, res));
        },
        close: () =>
          (closed ??= new Promise<void>((done) => {
            listener.close(() => done());
            // Streams (SSE) would hold the server open; end them.
            listener.closeAllConnections();
          })),
      });
    });
  });
}
