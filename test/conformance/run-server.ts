// Runs the pinned @modelcontextprotocol/conformance server scenarios against a real gateway.
// The conformance runner sends no credentials, and every /mcp request must authenticate, so the
// gateway is put behind a loopback proxy that adds an API key: the scenarios test the protocol,
// the rest of the suite tests authentication. Usage (after `npm run build`):
//   node dist/test/conformance/run-server.js [--scenario NAME]
// Results land in test-artifacts/conformance/; known gaps are listed with a reason each in
// expected-failures.yaml and do not fail the run.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startTestGateway } from '../helpers/gateway.js';

/** The repository root (this file runs from dist/test/conformance/). */
const root = path.resolve(import.meta.dirname, '../../..');

const t = await startTestGateway();
const { key } = await t.key({ scopes: ['memory:read', 'memory:write', 'memory:delete', 'web:fetch'] });
const target = new URL(t.url);
let proxyHost = '';
const proxy = http.createServer((req, res) => {
  // Only the proxy's own Host (and Origin) is mapped to the gateway's; any other Host (the DNS-rebinding
  // scenario sends one) reaches the gateway unchanged, so its Host check is what is tested.
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
const url = `http://${proxyHost}/mcp`;

const args = [
  path.join(root, 'node_modules/@modelcontextprotocol/conformance/dist/index.js'),
  'server',
  '--url',
  url,
  '--expected-failures',
  path.join(root, 'test/conformance/expected-failures.yaml'),
  '-o',
  path.join(root, 'test-artifacts/conformance'),
  ...process.argv.slice(2),
];
const code = await new Promise<number | null>((resolve) =>
  spawn(process.execPath, args, { stdio: 'inherit' }).on('exit', resolve),
);
proxy.close();
await t.close();
process.exit(code ?? 1);
