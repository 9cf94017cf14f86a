import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

export interface MetricsListener {
  /** Where Prometheus scrapes: `http://<host>:<port>/metrics`. */
  readonly url: URL;
  close(): Promise<void>;
}

/**
 * The metrics listener: its own port, so /metrics (and the detailed /readyz) is never reachable
 * through the MCP listener.
 */
export function listenMetrics(
  where: { readonly host: string; readonly port: number },
  metrics: Metrics,
): Promise<MetricsListener> {
  const server = http.createServer((req, res) => {
    // The operator's readiness view: each dependency's error text and latency and each upstream
    // by name, which the public /readyz leaves out (http/readiness.ts, publicReadiness).
    const readiness = req.method === 'GET' && req.url === '/readyz' ? metrics.readiness() : undefined;
    if (readiness) {
      readiness.then(
        (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host, () => {
      const { port } = server.address() as AddressInfo;
      const host = where.host.includes(':') ? `[${where.host}]` : where.host;
      resolve({
        url: new URL(`http://${host}:${port}/metrics`),
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
