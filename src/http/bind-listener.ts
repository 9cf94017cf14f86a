import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Config } from '../config/index.js';
import { HTTP_STATUS } from '../wire/index.js';
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
  /**
   * Stops accepting connections, answers any further request on an open connection 503, lets the
   * requests in flight finish for up to `drainMs`, then ends every connection (an event stream a
   * client holds open is not waited for). Calling it again waits for the same close.
   */
  close(drainMs?: number): Promise<void>;
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
  let draining = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      resolve({
        port: (listener.address() as AddressInfo).port,
        serve(fetch) {
          listener.off('request', notYet);
          const handle = getRequestListener(fetch, { hostname: host });
          listener.on('request', (req, res) => {
            if (draining) {
              // A request on a kept-alive connection after shutdown began: the load balancer
              // retries it on another replica.
              res
                .writeHead(HTTP_STATUS.serviceUnavailable, {
                  connection: 'close',
                  'retry-after': '1',
                  'content-type': 'application/json',
                })
                .end(JSON.stringify({ error: 'shutting_down' }));
              return;
            }
            // A client's open event stream (GET) has no end to wait for; every other request does.
            const stream = req.method === 'GET' && (req.headers.accept ?? '').includes('text/event-stream');
            if (!stream) {
              inFlight += 1;
              res.once('close', () => {
                inFlight -= 1;
                if (inFlight === 0) drained?.();
              });
            }
            void handle(req, res);
          });
        },
        close: (drainMs = 0) =>
          (closed ??= new Promise<void>((done) => {
            draining = true;
            listener.close(() => done());
            listener.closeIdleConnections();
            // Streams (SSE) and requests still running after the drain would hold it open; end them.
            const cut = () => listener.closeAllConnections();
            if (inFlight === 0 || drainMs <= 0) return cut();
            const timer = setTimeout(cut, drainMs);
            drained = () => {
              clearTimeout(timer);
              // Let the last answer's bytes leave before its connection is ended.
              setImmediate(cut);
            };
          })),
      });
    });
  });
}
