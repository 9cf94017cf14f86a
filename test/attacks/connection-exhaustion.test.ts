import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Connection exhaustion: one address opens idle sockets (or sends a body one byte at a time)
 * until the gateway runs out of file descriptors, and every other client is locked out. The
 * listener caps connections per address and in total, and cuts off requests whose headers or
 * body do not arrive in time. The caps and timeouts are small here so the test runs in seconds;
 * the loops are bounded.
 */

const PER_ADDRESS = 5;
const TOTAL = 12;
const CONFIG = `server:
  connections:
    maxTotal: ${TOTAL}
    headersTimeoutSeconds: 1
    requestTimeoutSeconds: 2
`;

interface Probe {
  readonly socket: net.Socket;
  /** Resolves with the time the server closed the socket. */
  readonly closed: Promise<number>;
  isOpen(): boolean;
}

/** Opens a TCP connection from `from` and sends nothing (or `first`, when given). */
function open(port: number, from: string, first?: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    let open = true;
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
    const closed = new Promise<number>((done) =>
      socket.once('close', () => {
        open = false;
        done(Date.now());
      }),
    );
    socket.on('error', () => undefined);
    socket.resume();
    socket.once('connect', () => {
      if (first !== undefined) socket.write(first);
      resolve({ socket, closed, isOpen: () => open });
    });
    socket.once('error', reject);
  });
}

/** A plain GET /healthz from a given source address. */
function healthz(port: number, from: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/healthz', localAddress: from, agent: false, timeout: 3000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('connection exhaustion from one address', () => {
  let t: TestGateway;
  let port: number;
  const probes: Probe[] = [];

  before(async () => {
    // The test helper raises the per-address cap for every other test; this one sets it low.
    t = await startTestGateway({
      config: CONFIG,
      env: { PORTCULLIS_SERVER__CONNECTIONS__MAX_PER_ADDRESS: String(PER_ADDRESS) },
    });
    port = Number(t.gw.url.port);
  });
  after(async () => {
    for (const p of probes) p.socket.destroy();
    await t?.close();
  });

  it('sockets beyond the per-address cap are closed at once, and another address is still served', async () => {
    const flood: Probe[] = [];
    for (let i = 0; i < 4 * PER_ADDRESS; i++) flood.push(await open(port, '127.0.0.1'));
    probes.push(...flood);
    await settle(300);
    const stillOpen = flood.filter((p) => p.isOpen()).length;
    assert.ok(stillOpen <= PER_ADDRESS, `${stillOpen} idle sockets from one address are held open`);
    assert.equal(await healthz(port, '127.0.0.2'), 200, 'a client from another address is served');
  });

  it('idle sockets are closed after the header timeout, and the flooding address can connect again', async () => {
    const started = Date.now();
    const idle = await open(port, '127.0.0.5');
    probes.push(idle);
    const closedAt = await Promise.race([idle.closed, settle(6000).then(() => undefined)]);
    assert.ok(closedAt !== undefined, 'an idle socket is held past the header timeout');
    assert.ok(closedAt - started < 4000, `closed after ${closedAt - started} ms`);
    // The flood of the first test has timed out too by now.
    for (let i = 0; i < 40 && probes.some((p) => p.isOpen()); i++) await settle(100);
    assert.equal(await healthz(port, '127.0.0.1'), 200);
  });

  it('a body sent one byte at a time (slowloris) is cut off by the request timeout', async () => {
    // Authenticated, so the gateway reads the body instead of answering 401 straight away.
    const { key } = await t.key();
    const started = Date.now();
    const slow = await open(
      port,
      '127.0.0.6',
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${key}\r\n` +
        'Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n' +
        'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    probes.push(slow);
    let answer = '';
    slow.socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const drip = setInterval(() => slow.isOpen() && slow.socket.write(' '), 200);
    try {
      const closedAt = await Promise.race([slow.closed, settle(8000).then(() => undefined)]);
      assert.ok(closedAt !== undefined, 'a slow body is held past the request timeout');
      assert.ok(closedAt - started < 5000, `closed after ${closedAt - started} ms`);
      assert.match(answer, /^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(drip);
    }
  });

  it('the total cap holds across many addresses', async () => {
    const many: Probe[] = [];
    for (let i = 0; i < TOTAL + 6; i++) many.push(await open(port, `127.0.1.${10 + i}`));
    probes.push(...many);
    await settle(300);
    const stillOpen = many.filter((p) => p.isOpen()).length;
    assert.ok(stillOpen <= TOTAL, `${stillOpen} sockets held open in total`);
  });
});
