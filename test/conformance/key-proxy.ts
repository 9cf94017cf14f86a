// The conformance runner sends no credentials, and every /mcp request to the gateway must
// authenticate, so the runners put the gateway behind this loopback proxy, which adds an API key:
// the scenarios test the protocol, the rest of the suite tests authentication.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KeyProxy {
  /** The proxied /mcp URL to give the suite. */
  readonly url: string;
  close(): Promise<void>;
}

/** Forwards every request to `mcpUrl`'s host with `Authorization: Bearer <key>` added. */
export async function startKeyProxy(mcpUrl: string, key: string): Promise<KeyProxy> {
  const target = new URL(mcpUrl);
  let proxyHost = '';
  const proxy = http.createServer((req, res) => {
    // Only the proxy's own Host (and Origin) is mapped to the gateway's; any other Host (the
    // DNS-rebinding scenario sends one) reaches the gateway unchanged, so its Host check is tested.
    const host = req.headers.host === proxyHost ? target.host : req.headers.host;
    const origin = req.headers.origin === `http://${proxyHost}` ? target.origin : req.headers.origin;
    const headers = { ...req.headers, host, ...(origin ? { origin } : {}), authorization: `Bearer ${key}` };
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return {
    url: `http://${proxyHost}${target.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}
