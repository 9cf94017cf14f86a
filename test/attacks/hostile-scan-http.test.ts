import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

/**
 * A scanned HTTP server that tries to use the scanner as its proxy into the network it runs in,
 * or to make it buffer an answer of any size. (The stdio attacks are in hostile-scan-target.)
 */
describe('a hostile HTTP server against the scanner', () => {
  let trap: http.Server;
  let hostile: http.Server;
  let trapHits = 0;
  let url = '';
  let huge = '';

  before(async () => {
    // The trap listens on another loopback address: the scanner may reach the target's own
    // address, not other internal ones the target names.
    trap = http.createServer((_req, res) => {
      trapHits++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.2', resolve));
    const trapUrl = `http://127.0.0.2:${(trap.address() as AddressInfo).port}`;
    hostile = http.createServer((req, res) => {
      if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"jsonrpc":"2.0","id":1,"result":{"pad":"${'x'.repeat(10 * 1024 * 1024)}"}}`);
        return;
      }
      if (req.url?.startsWith('/.well-known/oauth-protected-resource')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ resource: url, authorization_servers: [`${trapUrl}/as`] }));
        return;
      }
      res.writeHead(401, {
        'www-authenticate': `Bearer resource_metadata="${trapUrl}/.well-known/oauth-protected-resource"`,
        'content-type': 'application/json',
      });
      res.end('{"error":"unauthorized"}');
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    url = `${origin}/mcp`;
    huge = `${origin}/huge`;
  });
  after(() => {
    hostile.closeAllConnections();
    trap.close();
    hostile.close();
  });

  it('cannot make the scanner fetch an internal address it names in its metadata', async () => {
    const r = await runCli(['scan', '--quiet', '--json', url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(trapHits, 0, 'the scanner followed the server to another internal address');
    const checks = JSON.parse(r.stdout).findings.map((f: any) => f.check);
    // The server's own well-known metadata was read; its authorization server was not reachable.
    assert.ok(checks.includes('auth/as-metadata-missing'), checks.join(', '));
  });

  it('cannot make the scanner buffer an oversized answer: exit 2, the body cut at the cap', async () => {
    const r = await runCli(['scan', '--quiet', huge], { env: { NODE_OPTIONS: '--max-old-space-size=96' } });
    assert.equal(r.code, 2);
    assert.match(r.stdout, /scan failed/);
  });
});
