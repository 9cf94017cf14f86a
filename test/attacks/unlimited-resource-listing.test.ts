// Attack: a caller whose rate limit is spent keeps driving the upstream through the requests
// that reach it without being calls: resources/list (one live upstream request per page) and
// resources/subscribe or subscriptions/listen (relayed to the server). Before the fix neither went
// through the limits: with a budget of 4, the tenth listing still went to the server and was
// answered, and a listen after the budget was spent was accepted and subscribed upstream.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditTip, modernHeaders, recordsAfter } from '../helpers/audit-records.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

const SERVER = path.resolve(import.meta.dirname, '../fixtures/file-resource-server.js');
const LIMIT = 4;

const rpc = (t: TestGateway, key: string, method: string, params: unknown = {}) =>
  postMcp(t.url, { jsonrpc: '2.0', id: 1, method, params }, { key }).then(readRpc);

describe('attack: resources/list past a spent rate limit', () => {
  let t: TestGateway;

  before(async () => {
    t = await startTestGateway({
      config: upstreamsConfig([
        { name: 'files', stdio: { command: NODE, args: [SERVER] }, pinning: 'trust-on-first-use' },
      ]),
      env: {
        PORTCULLIS_RATE_LIMITS__CREDENTIAL__POINTS: String(LIMIT),
        PORTCULLIS_RATE_LIMITS__CREDENTIAL__WINDOW_SECONDS: '3600',
      },
    });
    const probe = (await t.key({ owner: 'probe', scopes: ['files:resources'] })).key;
    await eventually(async () => {
      const r = await rpc(t, probe, 'resources/templates/list');
      return r.result ? true : undefined;
    }, 'the files upstream');
  });
  after(async () => t?.close());

  it('listings count against the caller’s limit; past it they are refused and recorded', async () => {
    const { key } = await t.key({ owner: 'mallory', scopes: ['files:resources'] });
    const tip = await auditTip(t);
    const answers = [];
    for (let i = 0; i < LIMIT + 6; i++) answers.push(await rpc(t, key, 'resources/list'));
    const served = answers.filter((a) => a.result?.resources?.length > 0).length;
    assert.equal(served, LIMIT, JSON.stringify(answers.at(-1)));
    const refused = answers.at(-1)!;
    assert.equal(refused.error?.code, -32029, JSON.stringify(refused));
    assert.match(refused.error.message, /rate limit/i);
    const records = await recordsAfter(t, tip, 'surface-list');
    assert.equal(records.length, LIMIT + 6, 'every listing, served or refused, has one record');
    assert.equal(records.filter((r) => r.outcome === 'rate-limited').length, 6);
  });

  it('a subscription past the spent limit is refused (429) before it reaches the server', async () => {
    const { key } = await t.key({ owner: 'mallet', scopes: ['files:resources'] });
    for (let i = 0; i < LIMIT; i++) await rpc(t, key, 'resources/list');
    const tip = await auditTip(t);
    const res = await fetch(t.url, {
      method: 'POST',
      headers: modernHeaders(key, 'subscriptions/listen'),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'subscriptions/listen',
        params: {
          notifications: { resourceSubscriptions: ['portcullis://files/file:///srv/docs/public/readme.txt'] },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    // An accepted listen is a stream that stays open: let go of it either way.
    const status = res.status;
    await res.body?.cancel();
    assert.equal(status, 429);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    const [record] = await recordsAfter(t, tip, 'resource-subscribe');
    assert.equal(record?.outcome, 'rate-limited');
  });

  it('another caller’s budget is its own: its listing is served', async () => {
    const { key } = await t.key({ owner: 'alice', scopes: ['files:resources'] });
    const r = await rpc(t, key, 'resources/list');
    assert.ok(r.result?.resources?.length > 0, JSON.stringify(r));
  });
});
