import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';

// /mcp reads a body framed by Content-Length in one go and a chunked body piece by piece,
// counting (wire/read-body.ts). Neither framing may carry more than server.bodyLimitBytes into
// the gateway, and a lying or broken framing must not reach a tool.

const CAP = 4096;
const call = (content: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'memory_save', arguments: { content: `framing ${content}` } },
  });

/**
 * Sends raw bytes on one connection; resolves with the response head once it arrives (then drops
 * the connection), or with what came before the server closed, or after `waitMs` with nothing.
 */
function raw(port: number, chunks: readonly (string | Buffer)[], waitMs = 5000) {
  return new Promise<string>((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const done = () => {
      sock.destroy();
      resolve(got);
    };
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) done();
    });
    sock.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve(got) : reject(err),
    );
    sock.on('close', () => resolve(got));
    sock.on('connect', () => {
      for (const c of chunks) sock.write(c);
    });
    setTimeout(done, waitMs).unref();
  });
}

const head = (port: number, key: string, extra: string) =>
  `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${key}\r\n` +
  `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nConnection: close\r\n${extra}\r\n`;

const status = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

describe('attack: request framing on /mcp', () => {
  let t: TestGateway;
  let key: string;
  let port: number;
  let countNotes: () => Promise<number>;

  before(async () => {
    t = await startTestGateway({ config: `server:\n  bodyLimitBytes: ${CAP}\n` });
    key = (await t.key()).key;
    port = Number(new URL(t.url).port);
    countNotes = async () => {
      const listed = await readRpc(
        await postMcp(
          t.url,
          {
            jsonrpc: '2.0',
            id: 9,
            method: 'tools/call',
            params: { name: 'memory_search', arguments: { query: 'framing' } },
          },
          { key },
        ),
      );
      return (listed.result as { structuredContent: { items: unknown[] } }).structuredContent.items.length;
    };
  });
  after(() => t.close());

  it('a chunked body over the cap is refused with 413 and saves nothing', async () => {
    const body = call('x'.repeat(CAP * 4));
    const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
    const parts = body.match(/.{1,1000}/gs)!.map(chunk);
    const out = await raw(port, [head(port, key, 'Transfer-Encoding: chunked\r\n'), ...parts, '0\r\n\r\n']);
    assert.equal(status(out), 413, out.slice(0, 200));
    assert.equal(await countNotes(), 0);
  });

  it('a Content-Length over the cap is refused before the body is read', async () => {
    const out = await raw(port, [head(port, key, `Content-Length: ${CAP + 1}\r\n`)]);
    assert.equal(status(out), 413, out.slice(0, 200));
  });

  it('bytes beyond a declared Content-Length are never part of the body', async () => {
    // The declared length ends inside the JSON: the gateway sees a truncated body (a parse
    // error), and what follows is parsed as another request (Node refuses it), never appended.
    const body = call('smuggled');
    const declared = body.length - 10;
    const out = await raw(port, [head(port, key, `Content-Length: ${declared}\r\n`), body]);
    assert.equal(status(out), 400, out.slice(0, 200));
    assert.equal(await countNotes(), 0);
  });

  it('a body cut short of its Content-Length reaches no tool, and the gateway goes on', async () => {
    const body = call('cut short');
    // The client gives up waiting for its own missing bytes and goes away.
    await raw(port, [head(port, key, `Content-Length: ${body.length + 50}\r\n`), body], 300);
    assert.equal(await countNotes(), 0);
  });

  it('Content-Length and Transfer-Encoding together are refused', async () => {
    const body = call('both');
    const out = await raw(port, [
      head(port, key, `Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`),
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    ]);
    assert.equal(status(out), 400, out.slice(0, 200));
    assert.equal(await countNotes(), 0);
  });

  it('legitimate: a call framed by Content-Length, and one sent chunked, both run', async () => {
    const a = call('framed by length');
    const out1 = await raw(port, [head(port, key, `Content-Length: ${Buffer.byteLength(a)}\r\n`), a]);
    assert.equal(status(out1), 200, out1.slice(0, 300));
    const b = call('sent in chunks');
    const out2 = await raw(port, [
      head(port, key, 'Transfer-Encoding: chunked\r\n'),
      `${Buffer.byteLength(b).toString(16)}\r\n${b}\r\n0\r\n\r\n`,
    ]);
    assert.equal(status(out2), 200, out2.slice(0, 300));
    // A body exactly at the cap is accepted by the framing (the tool may still refuse it).
    const pad = 'y'.repeat(CAP - Buffer.byteLength(call('')));
    const c = call(pad);
    assert.equal(Buffer.byteLength(c), CAP);
    const out3 = await raw(port, [head(port, key, `Content-Length: ${CAP}\r\n`), c]);
    assert.equal(status(out3), 200, out3.slice(0, 300));
    assert.equal(await countNotes(), 3);
  });
});
