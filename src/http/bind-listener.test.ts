import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { configSchema } from '../config/index.js';
import { bindListener } from './bind-listener.js';

const server = configSchema.parse({ server: { host: '127.0.0.1', port: 0 } }).server;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A GET over its own keep-alive connection, resolving with status and body (or the error). */
function get(port: number, agent: http.Agent, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

describe('the listener at shutdown', () => {
  it('lets a request in flight finish and refuses new connections', async () => {
    const listener = await bindListener(server);
    listener.serve(async (req) => {
      if (new URL(req.url).searchParams.has('slow') || req.headers.get('x-slow')) await sleep(600);
      return new Response('done');
    });
    const kept = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const slowAgent = new http.Agent({ keepAlive: true });
    // Open the kept-alive connection before shutdown starts.
    assert.deepEqual(await get(listener.port, kept), { status: 200, body: 'done' });
    const slow = get(listener.port, slowAgent, { 'x-slow': '1' });
    await sleep(100);
    const started = Date.now();
    const closing = listener.close(5_000);
    await sleep(50);
    const fresh = await get(listener.port, new http.Agent());
    assert.deepEqual(fresh, { error: 'ECONNREFUSED' });
    assert.deepEqual(await slow, { status: 200, body: 'done' }, 'the call in flight completed');
    await closing;
    assert.ok(Date.now() - started < 2_000, 'closed once the last request ended, not at the bound');
    kept.destroy();
    slowAgent.destroy();
  });

  it('answers 503 to a request whose head was still arriving when the drain began', async () => {
    const listener = await bindListener(server);
    listener.serve(async (req) => {
      if (req.headers.get('x-slow')) await sleep(800);
      return new Response('done');
    });
    // A call in flight keeps the drain open while the late request finishes arriving.
    const slow = get(listener.port, new http.Agent(), { 'x-slow': '1' });
    const socket = net.connect(listener.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await sleep(100);
    const closing = listener.close(5_000);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.write('\r\n');
    await new Promise((r) => socket.once('close', r));
    assert.match(answer, /^HTTP\/1\.1 503/);
    assert.match(answer, /connection: close/i);
    assert.match(answer, /retry-after: 1/i);
    assert.deepEqual(await slow, { status: 200, body: 'done' });
    await closing;
  });

  it('cuts a request that outlasts the drain bound', async () => {
    const listener = await bindListener(server);
    listener.serve(() => new Promise<Response>(() => {}));
    const stuck = get(listener.port, new http.Agent());
    await sleep(100);
    const started = Date.now();
    await listener.close(300);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2_000, `closed after ${elapsed} ms`);
    assert.ok('error' in (await stuck), 'its connection was ended');
  });
});
