import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createEgressGuard, type EgressGuard } from '../../src/egress/index.js';

/**
 * Credential headers across a redirect: the gateway calls an allowed service with a credential
 * in a custom header (`x-api-key`, `x-vault-token`, a webhook signature), and that service — or
 * whoever controls it — answers with a redirect to another origin it owns. Forwarding the
 * header hands the credential over. On a cross-origin hop the egress guard (the one way out of
 * the gateway) keeps only a short allow-list of caller-supplied headers; on a same-origin hop
 * every header stays. Two loopback servers on different ports are two origins (RFC 6454).
 */

interface Seen {
  readonly method: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

async function listen(handler: (req: IncomingMessage) => [number, Record<string, string>]) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body });
      const [status, headers] = handler(req);
      res.writeHead(status, headers).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, seen, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const CALLER_HEADERS = {
  'x-api-key': 'caller-api-key-1f6b0c9d42',
  authorization: 'Bearer caller-token-6a1e',
  cookie: 'session=caller-cookie',
  'x-request-signature': 'sig-8842',
  accept: 'application/json',
  'accept-language': 'en',
  'user-agent': 'portcullis-test',
  'content-type': 'application/json',
};

describe('caller headers on redirects through the egress guard', () => {
  let a: Awaited<ReturnType<typeof listen>>;
  let b: Awaited<ReturnType<typeof listen>>;
  let guard: EgressGuard;

  before(async () => {
    // b bounces /back to a's origin, to check that a dropped header is not restored on the way back.
    b = await listen((req) =>
      req.url === '/back'
        ? [302, { location: `${a.origin}/final` }]
        : [200, { 'content-type': 'text/plain' }],
    );
    a = await listen((req) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/same') return [302, { location: '/final' }];
      if (path === '/cross-307') return [307, { location: `${b.origin}/final` }];
      if (path === '/cross-303') return [303, { location: `${b.origin}/final` }];
      if (path === '/cross-and-back') return [302, { location: `${b.origin}/back` }];
      return [200, { 'content-type': 'text/plain' }];
    });
    guard = createEgressGuard({
      allowHosts: ['127.0.0.1'],
      allowHttpHosts: ['127.0.0.1'],
      allowAddresses: ['127.0.0.1/32'],
    });
  });
  after(async () => {
    await guard.close();
    for (const s of [a.server, b.server]) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('a same-origin redirect keeps every caller header, the API key included', async () => {
    const res = await guard.fetch(`${a.origin}/same`, { headers: CALLER_HEADERS });
    assert.equal(res.status, 200);
    const final = a.seen.at(-1)!;
    assert.equal(final.headers['x-api-key'], CALLER_HEADERS['x-api-key']);
    assert.equal(final.headers.authorization, CALLER_HEADERS.authorization);
    assert.equal(final.headers['x-request-signature'], CALLER_HEADERS['x-request-signature']);
  });

  it('a cross-origin 307 forwards only the safe headers, and the body with its content type', async () => {
    const res = await guard.fetch(`${a.origin}/cross-307`, {
      method: 'POST',
      headers: CALLER_HEADERS,
      body: '{"n":1}',
    });
    assert.equal(res.status, 200);
    assert.equal(res.finalUrl, `${b.origin}/final`);
    const hop = b.seen.at(-1)!;
    assert.equal(hop.method, 'POST');
    assert.equal(hop.body, '{"n":1}');
    for (const h of ['x-api-key', 'authorization', 'cookie', 'x-request-signature'])
      assert.equal(hop.headers[h], undefined, `${h} crossed origins`);
    assert.equal(hop.headers.accept, 'application/json');
    assert.equal(hop.headers['accept-language'], 'en');
    assert.equal(hop.headers['user-agent'], 'portcullis-test');
    assert.equal(hop.headers['content-type'], 'application/json');
  });

  it('a cross-origin 303 drops the body and its content type too', async () => {
    await guard.fetch(`${a.origin}/cross-303`, { method: 'POST', headers: CALLER_HEADERS, body: '{}' });
    const hop = b.seen.at(-1)!;
    assert.equal(hop.method, 'GET');
    assert.equal(hop.headers['content-type'], undefined);
    assert.equal(hop.headers['x-api-key'], undefined);
  });

  it('a header dropped on the way out is not restored when the chain comes back to the first origin', async () => {
    const res = await guard.fetch(`${a.origin}/cross-and-back`, { headers: CALLER_HEADERS });
    assert.equal(res.finalUrl, `${a.origin}/final`);
    const back = a.seen.at(-1)!;
    assert.equal(back.headers['x-api-key'], undefined);
    assert.equal(back.headers.accept, 'application/json');
  });
});
