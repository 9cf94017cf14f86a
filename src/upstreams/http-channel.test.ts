import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createEgressGuard, type EgressGuard } from '../egress/index.js';
import { createHttpChannel } from './http-channel.js';
import type { RpcMessage } from './rpc-connection.js';

/**
 * A Streamable HTTP server that answers a request with an event stream: one progress event, and
 * the result only once the test says the progress was seen. A channel that read the stream whole
 * before handing anything on would never see the progress, and the request would hang.
 */
describe('the Streamable HTTP channel', () => {
  let server: http.Server;
  let url: string;
  let guard: EgressGuard;
  let seen!: () => void;
  const progressSeen = new Promise<void>((resolve) => (seen = resolve));
  const headersSent: http.IncomingHttpHeaders[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      headersSent.push(req.headers);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const msg = JSON.parse(body) as { id: number };
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const event = (m: unknown) => res.write(`event: message\ndata: ${JSON.stringify(m)}\n\n`);
        // Split mid-event and across the blank line, as a network may deliver it.
        const progress = JSON.stringify({
          jsonrpc: '2.0',
          method: 'notifications/progress',
          params: { progressToken: 't', progress: 1 },
        });
        res.write(`data: ${progress.slice(0, 20)}`);
        setTimeout(() => res.write(`${progress.slice(20)}\r\n\r`), 20);
        setTimeout(() => res.write('\n'), 40);
        void progressSeen.then(() => {
          event({ jsonrpc: '2.0', id: msg.id, result: { content: [] } });
          res.end();
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    guard = createEgressGuard({
      allowHosts: ['127.0.0.1'],
      allowHttpHosts: ['127.0.0.1'],
      allowAddresses: ['127.0.0.1/32'],
      timeoutMs: 5000,
    });
  });
  after(async () => {
    await guard.close();
    server.close();
  });

  it('hands on each event of a response stream as it arrives, on that request’s origin', async () => {
    const channel = createHttpChannel({ upstream: 'u', url, guard, headers: {}, auth: undefined });
    const got: { m: RpcMessage; origin: number | undefined }[] = [];
    channel.onMessage = (m, origin) => {
      got.push({ m, origin });
      if (m.method === 'notifications/progress') seen();
    };
    channel.setProtocolVersion?.('2026-07-28');
    await channel.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'slow' } });
    assert.deepEqual(
      got.map((g) => [g.m.method ?? 'result', g.origin]),
      [
        ['notifications/progress', 3],
        ['result', 3],
      ],
    );
    // 2026-07-28: the standard headers, and no session.
    assert.equal(headersSent[0]!['mcp-protocol-version'], '2026-07-28');
    assert.equal(headersSent[0]!['mcp-method'], 'tools/call');
    assert.equal(headersSent[0]!['mcp-name'], 'slow');
    assert.equal(headersSent[0]!['mcp-session-id'], undefined);
    await channel.close();
  });
});
