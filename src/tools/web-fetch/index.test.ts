import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createEgressGuard, type EgressGuard } from '../../egress/index.js';
import { ToolInputError, type ToolContext } from '../types.js';
import { createWebFetchTool } from './index.js';

const pages: Record<string, [string, string | Buffer]> = {
  '/page': [
    'text/html; charset=utf-8',
    '<html><head><title>x</title></head><body><h1>Hello</h1><p>World &amp; more</p></body></html>',
  ],
  '/plain': ['text/plain', 'just text'],
  '/json': ['application/json', '{"a":1}'],
  '/image': ['image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4])],
  '/long': ['text/plain', 'x'.repeat(500)],
};

let server: Server;
let base: string;
let guard: EgressGuard;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/plain' }).end();
      return;
    }
    if (req.url === '/to-metadata') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/' }).end();
      return;
    }
    const page = pages[req.url ?? ''];
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': page[0] }).end(page[1]);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  guard = createEgressGuard({ allowHosts: ['*'], allowHttpHosts: ['*'], allowAddresses: ['127.0.0.1/32'] });
});

after(async () => {
  await guard.close();
  server.closeAllConnections();
  server.close();
});

const ctx: ToolContext = {
  principal: {
    subject: 'u1',
    tenant: 't1',
    credentialId: 'k1',
    binding: 'api-key:k1',
    authMethod: 'api-key',
    scopes: new Set(['web:fetch']),
  },
  requestId: 'r1',
  signal: new AbortController().signal,
};

describe('web_fetch', () => {
  it('declares itself as a read tool with the web:fetch scope and the untrusted-source label', () => {
    const tool = createWebFetchTool(guard, { maxChars: 100 });
    assert.equal(tool.name, 'web_fetch');
    assert.equal(tool.scope, 'web:fetch');
    assert.equal(tool.class, 'read');
    assert.deepEqual(tool.labels, ['untrusted-source']);
  });

  it('accepts only one http(s) URL of at most 2048 characters and no other keys', () => {
    const tool = createWebFetchTool(guard, { maxChars: 100 });
    assert.equal(tool.checkArgs({ url: 'https://example.com/' }).ok, true);
    assert.equal(tool.checkArgs({ url: 'file:///etc/passwd' }).ok, false);
    assert.equal(tool.checkArgs({ url: 'not a url' }).ok, false);
    assert.equal(tool.checkArgs({ url: `https://e.com/${'a'.repeat(2048)}` }).ok, false);
    assert.equal(tool.checkArgs({ url: 'https://example.com/', method: 'POST' }).ok, false);
  });

  it('returns an HTML page as readable text with status, content type and final URL', async () => {
    const tool = createWebFetchTool(guard, { maxChars: 1000 });
    const out = await tool.execute({ url: `${base}/page` }, ctx);
    assert.deepEqual(out.structured, {
      url: `${base}/page`,
      status: 200,
      contentType: 'text/html; charset=utf-8',
      text: 'Hello\nWorld & more',
      truncated: false,
    });
    assert.deepEqual(out.content, [{ type: 'text', text: 'Hello\nWorld & more' }]);
  });

  it('returns plain text and JSON as they are, and follows redirects', async () => {
    const tool = createWebFetchTool(guard, { maxChars: 1000 });
    assert.equal(
      ((await tool.execute({ url: `${base}/json` }, ctx)).structured as { text: string }).text,
      '{"a":1}',
    );
    const moved = (await tool.execute({ url: `${base}/moved` }, ctx)).structured as {
      url: string;
      text: string;
    };
    assert.equal(moved.url, `${base}/plain`);
    assert.equal(moved.text, 'just text');
  });

  it('reports a 404 as a status, not an error', async () => {
    const tool = createWebFetchTool(guard, { maxChars: 1000 });
    assert.equal(
      ((await tool.execute({ url: `${base}/missing` }, ctx)).structured as { status: number }).status,
      404,
    );
  });

  it('returns a short note instead of the bytes of non-text content', async () => {
    const tool = createWebFetchTool(guard, { maxChars: 1000 });
    const out = (await tool.execute({ url: `${base}/image` }, ctx)).structured as { text: string };
    assert.equal(out.text, '[portcullis: image/png content (8 bytes) is not text and was not returned]');
  });

  it('cuts long text at maxChars and says so', async () => {
    const tool = createWebFetchTool(guard, { maxChars: 100 });
    const out = (await tool.execute({ url: `${base}/long` }, ctx)).structured as {
      text: string;
      truncated: boolean;
    };
    assert.equal(out.text.length, 100);
    assert.equal(out.truncated, true);
  });

  it('surfaces an egress refusal as an error whose public message says what was refused', async () => {
    const tool = createWebFetchTool(guard, { maxChars: 100 });
    await assert.rejects(tool.execute({ url: `${base}/to-metadata` }, ctx), (err: unknown) => {
      assert.ok(err instanceof ToolInputError);
      assert.match(err.message, /internal or reserved network address/);
      return true;
    });
  });
});
