import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import { addUser, openOAuthTables, registerClient } from '../helpers/oauth-gateway.js';

const HUGE = 150 * 1024 * 1024;
const PIECE = Buffer.alloc(64 * 1024, 'a');

interface Upload {
  /** The status line's code, or 0 if no answer came. */
  readonly status: number;
  /** Body bytes written before the answer arrived. */
  readonly sent: number;
  readonly headers: string;
  /** Whether the server closed the connection within 3 s of answering, the body unfinished. */
  readonly closed: boolean;
}

/**
 * Sends a POST whose body is `total` bytes, declared by Content-Length or sent chunked, over a
 * raw socket, stops sending as soon as the server answers, and waits to see whether the server
 * then ends the connection. What it measures is how much of the body the server took in before
 * it answered, and that it does not wait for the rest.
 */
function upload(
  origin: string,
  path: string,
  opts: { total: number; chunked?: boolean; method?: string },
): Promise<Upload> {
  const url = new URL(origin);
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let sent = 0;
    let answer = '';
    let answered: { status: number; sent: number; headers: string } | undefined;
    let settled = false;
    const settle = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(noAnswer);
      clearTimeout(noClose);
      socket.destroy();
      resolve({ ...(answered ?? { status: 0, sent, headers: answer }), closed });
    };
    // An answer that never comes while the body is still being accepted is the failure.
    const noAnswer = setTimeout(() => settle(false), 20_000);
    let noClose: NodeJS.Timeout | undefined;
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (!answered && answer.includes('\r\n\r\n')) {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
        answered = { status, sent, headers: answer.split('\r\n\r\n')[0] ?? '' };
        clearTimeout(noAnswer);
        noClose = setTimeout(() => settle(false), 3000);
      }
    });
    socket.on('error', () => settle(answered !== undefined));
    socket.on('close', () => settle(answered !== undefined));
    socket.on('connect', () => {
      socket.write(
        [
          `${opts.method ?? 'POST'} ${path} HTTP/1.1`,
          `Host: ${url.host}`,
          'Content-Type: application/x-www-form-urlencoded',
          opts.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${opts.total}`,
          '',
          '',
        ].join('\r\n'),
      );
      const pump = () => {
        while (!answered && !settled && sent < opts.total) {
          const piece = PIECE.subarray(0, Math.min(PIECE.length, opts.total - sent));
          const framed = opts.chunked
            ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])
            : piece;
          sent += piece.length;
          if (!socket.write(framed)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      // Headers first, so the server can decide on them before any body arrives.
      setTimeout(pump, 50);
    });
  });
}

/**
 * Attack: before anyone signs in, post bodies of any size to the pages and OAuth endpoints and
 * have the gateway buffer them (a 150 MB POST /account/login raised RSS from 120 MB to 855 MB).
 * Every route outside /mcp now decides on the declared length before it reads a byte: over the
 * cap (16 KiB for the pages' forms, oidc-provider's own 56 KiB for its endpoints) is 413, a
 * body of undeclared length is 411, and the connection is ended (after at most half a second
 * of discarding, so the client can read the answer): nothing more is taken in.
 */
describe('attack: unbounded request bodies before authentication', () => {
  let t: TestGateway;
  let origin: string;
  before(async () => {
    t = await startTestGateway();
    origin = t.gw.url.origin;
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'correct horse battery');
    await db.close();
  });
  after(() => t.close());

  const routes = [
    '/account/login',
    '/account/logout',
    `/approvals/apr_${'b'.repeat(22)}/login`,
    `/approvals/apr_${'b'.repeat(22)}`,
    '/oauth/interaction/some-uid/login',
    '/oauth/token',
    '/oauth/reg',
    '/oauth/federation/callback',
    '/admin/audit',
    '/healthz',
    '/no-such-page',
  ];

  for (const route of routes) {
    it(`POST ${route} declaring 150 MB is refused with 413 before the body is read`, async () => {
      const r = await upload(origin, route, { total: HUGE });
      assert.equal(r.status, 413, r.headers);
      assert.ok(r.sent <= 16 * 1024 * 1024, `the answer came after ${r.sent} bytes, not after the body`);
      assert.ok(r.closed, 'the server ends the connection instead of waiting for the rest');
    });
  }

  it('a chunked body of undeclared length is refused with 411 before it is read', async () => {
    for (const route of ['/account/login', `/approvals/apr_${'c'.repeat(22)}/login`, '/oauth/token']) {
      const r = await upload(origin, route, { total: HUGE, chunked: true });
      assert.equal(r.status, 411, `${route}: ${r.headers}`);
      assert.ok(r.sent <= 16 * 1024 * 1024, `${route}: the answer came after ${r.sent} bytes`);
      assert.ok(r.closed, `${route}: the server ends the connection`);
    }
  });

  it('a GET declaring a huge body is refused and its connection closed at once', async () => {
    const r = await upload(origin, '/account', { total: HUGE, method: 'GET' });
    assert.equal(r.status, 413, r.headers);
    assert.match(r.headers, /\r\nconnection: close/i);
    assert.ok(r.closed);
  });

  it('streaming 64 MiB at the sign-in form leaves the memory of the gateway flat', async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    const [a, b] = await Promise.all([
      upload(origin, '/account/login', { total: 64 * 1024 * 1024, chunked: true }),
      upload(origin, '/account/login', { total: 64 * 1024 * 1024 }),
    ]);
    assert.ok(a.status >= 400 && b.status >= 400);
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 48 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1048576)} MiB`);
  });

  it('forms and OAuth requests of ordinary size still work', async () => {
    const browser = new TestBrowser(origin);
    const { csrf, action } = formOf((await browser.navigate('/account')).body);
    // A long (wrong) name right under the cap reads as a failed sign-in, not a refused body.
    const long = await browser.request(action, {
      form: { csrf, name: 'x'.repeat(15_000), password: 'nope' },
    });
    assert.equal(long.status, 401);
    const ok = await browser.request(action, {
      form: { csrf, name: 'alice', password: 'correct horse battery' },
    });
    assert.equal(ok.status, 303);
    assert.match((await browser.navigate('/account')).body, /Connected apps/);

    const client = await registerClient(origin);
    assert.ok(client.clientId, 'Dynamic Client Registration still parses its JSON body');
    const token = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'nope',
        client_id: client.clientId,
        redirect_uri: client.redirectUri,
        code_verifier: 'v'.repeat(43),
      }),
    });
    assert.equal(token.status, 400);
    assert.equal(((await token.json()) as { error: string }).error, 'invalid_grant');
  });
});
