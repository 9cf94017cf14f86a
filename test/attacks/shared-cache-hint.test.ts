// Attack: a 2026-07-28 upstream marks its tools/list result cacheable by shared caches for a day
// (ttlMs, cacheScope: public). The gateway's own listing is filtered per caller's scopes, so a
// shared cache holding one caller's list could hand it to another. The gateway never passes an
// upstream's cache hint on: its cacheable results are private and not to be kept.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/modern-hostile-server.js');

async function list(t: TestGateway, key: string) {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${key}`,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/list',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: {
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'attack', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });
  return {
    res,
    body: (await res.json()) as {
      result: { tools: { name: string }[]; ttlMs?: number; cacheScope?: string };
    },
  };
}

describe('attack: an upstream’s shared-cache hint on a per-caller listing', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({
      config: upstreamsConfig([
        {
          name: 'one',
          stdio: { command: NODE, args: [FIXTURE] },
          protocol: '2026-07-28',
          tools: { '*': { class: 'read' } },
          pinning: 'trust-on-first-use',
        },
      ]),
    });
  });
  after(() => t?.close());

  it('each caller gets its own list, marked private and not to be kept, whatever the upstream said', async () => {
    const wide = (await t.key({ owner: 'alice', scopes: ['one:read', 'memory:read'] })).key;
    const narrow = (await t.key({ owner: 'bob', scopes: ['memory:read'] })).key;
    let seen: { name: string }[] = [];
    for (let i = 0; i < 50 && !seen.some((x) => x.name.startsWith('one__')); i++) {
      seen = (await list(t, wide)).body.result.tools;
      if (!seen.some((x) => x.name.startsWith('one__'))) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(
      seen.some((x) => x.name.startsWith('one__')),
      'the upstream is listed for the wide key',
    );
    const a = await list(t, wide);
    const b = await list(t, narrow);
    assert.ok(
      !b.body.result.tools.some((x) => x.name.startsWith('one__')),
      'the narrow key sees no upstream tool',
    );
    for (const { res, body } of [a, b]) {
      assert.equal(body.result.cacheScope, 'private');
      assert.equal(body.result.ttlMs, 0);
      assert.match(res.headers.get('cache-control') ?? '', /no-store/);
    }
  });
});
