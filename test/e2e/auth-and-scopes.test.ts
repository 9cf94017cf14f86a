import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const call = (name: string, args: unknown) => ({
  jsonrpc: '2.0',
  id: 7,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('authentication and scopes on /mcp', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
  });
  after(() => t.close());

  it('a request without a credential gets 401 with a bare Bearer challenge (no error code)', async () => {
    const res = await postMcp(t.url, list);
    assert.equal(res.status, 401);
    const challenge = res.headers.get('www-authenticate')!;
    assert.match(challenge, /^Bearer /);
    assert.match(challenge, /realm="portcullis"/);
    assert.doesNotMatch(challenge, /error=/);
    // OAuth (issue #3): the challenge names the protected-resource metadata and the scopes.
    assert.match(
      challenge,
      /resource_metadata="http:\/\/[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/,
    );
    assert.match(challenge, /scope="[^"]*memory:read[^"]*"/);
  });

  for (const [what, header] of [
    ['an unknown well-formed key', `Bearer pcs_aaaaaaaaaaaaaaaa_${'A'.repeat(43)}`],
    ['a malformed key', 'Bearer not-a-key'],
    ['a Basic credential', 'Basic dXNlcjpwYXNz'],
  ] as const) {
    it(`${what} gets 401 invalid_token with one generic message`, async () => {
      const res = await postMcp(t.url, list, { headers: { authorization: header } });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate')!, /error="invalid_token"/);
      assert.equal((await readRpc(res)).error?.message, 'Invalid credential.');
    });
  }

  it('a key in the query string is refused even when the header is also valid', async () => {
    const { key } = await t.key();
    const res = await postMcp(`${t.url}?access_token=${key}`, list, { key });
    assert.equal(res.status, 401);
  });

  it('an expired key is refused', async () => {
    const { key } = await t.key({ expiresAt: new Date(Date.now() - 1000) });
    assert.equal((await postMcp(t.url, list, { key })).status, 401);
  });

  it('revoking a key stops its very next request', async () => {
    const { id, key } = await t.key();
    assert.equal((await postMcp(t.url, list, { key })).status, 200);
    await t.gw.storage.apiKeys.revoke(id, new Date());
    const res = await postMcp(t.url, list, { key });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate')!, /invalid_token/);
  });

  it('tools/list shows only the tools the key may call', async () => {
    const { key } = await t.key({ scopes: ['memory:read'] });
    const body = await readRpc(await postMcp(t.url, list, { key }));
    assert.deepEqual(body.result.tools.map((x: { name: string }) => x.name).sort(), [
      'memory_get',
      'memory_search',
    ]);
  });

  it('a tool outside the key scopes gets 403 insufficient_scope naming the scope, and nothing runs', async () => {
    const { key } = await t.key({ scopes: ['memory:read'] });
    const res = await postMcp(t.url, call('memory_save', { content: 'x' }), { key });
    assert.equal(res.status, 403);
    const challenge = res.headers.get('www-authenticate')!;
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="memory:write"/);
    const body = await readRpc(res);
    assert.equal(body.id, 7);
    assert.match(body.error!.message, /memory:write/);
    const search = await readRpc(await postMcp(t.url, call('memory_search', { query: 'x' }), { key }));
    assert.deepEqual(search.result.structuredContent.items, []);
  });

  it('an unknown tool is a JSON-RPC invalid-params error that points at tools/list', async () => {
    const { key } = await t.key();
    const body = await readRpc(await postMcp(t.url, call('no_such_tool', {}), { key }));
    assert.equal(body.error?.code, -32602);
    assert.match(body.error.message, /tools\/list/);
  });
});

describe('tenant isolation', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
  });
  after(() => t.close());

  it("a key of owner A can never read, find or delete B's notes, not even by id", async () => {
    const a = await t.key({ owner: 'alice' });
    const b = await t.key({ owner: 'bob' });
    const saved = await readRpc(
      await postMcp(t.url, call('memory_save', { content: 'bob secret plans for the merger' }), {
        key: b.key,
      }),
    );
    const bobsId = saved.result.structuredContent.id as string;

    const found = await readRpc(
      await postMcp(t.url, call('memory_search', { query: 'merger' }), { key: a.key }),
    );
    assert.deepEqual(found.result.structuredContent.items, []);
    const got = await readRpc(await postMcp(t.url, call('memory_get', { id: bobsId }), { key: a.key }));
    assert.equal(got.result.isError, true);
    const del = await readRpc(await postMcp(t.url, call('memory_delete', { id: bobsId }), { key: a.key }));
    assert.equal(del.result.isError, true);

    // Arguments cannot name a tenant or owner: extra keys are rejected, not obeyed.
    const spoof = await readRpc(
      await postMcp(t.url, call('memory_search', { query: 'merger', owner: 'bob', tenant: 'bob' }), {
        key: a.key,
      }),
    );
    assert.equal(spoof.result.isError, true);
    assert.match(spoof.result.content[0].text, /unknown field/);

    const still = await readRpc(await postMcp(t.url, call('memory_get', { id: bobsId }), { key: b.key }));
    assert.equal(still.result.structuredContent.content, 'bob secret plans for the merger');
  });

  it('the same owner name in another tenant is another store', async () => {
    const a = await t.key({ owner: 'carol', tenant: 'acme' });
    const b = await t.key({ owner: 'carol', tenant: 'globex' });
    await postMcp(t.url, call('memory_save', { content: 'acme roadmap' }), { key: a.key });
    const found = await readRpc(
      await postMcp(t.url, call('memory_search', { query: 'roadmap' }), { key: b.key }),
    );
    assert.deepEqual(found.result.structuredContent.items, []);
  });
});
