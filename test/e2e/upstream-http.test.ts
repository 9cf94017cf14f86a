import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { postMcp, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  call,
  capturingLogger,
  connectClient,
  textOf,
  upstreamsConfig,
} from '../helpers/upstream-servers.js';

const VAULT_TOKEN = 'hvs.test-vault-token-0c1d2e3f';
const CC_SECRET = 'client-credentials-secret-9a8b7c6d';

function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

/**
 * A remote (Streamable HTTP) upstream: another Portcullis, reached through the egress guard
 * with the front gateway's own credentials — a bearer token read from HashiCorp Vault, and an
 * OAuth client-credentials token — never the client's.
 */
describe('an HTTP upstream with the gateway’s own credentials', () => {
  let back: TestGateway;
  let front: TestGateway;
  let client: Client;
  let frontKey: string;
  let vaultToken: string;
  let issuedToken: string;
  const tokenRequests: { authorization: string | undefined; body: string }[] = [];
  const log = capturingLogger();
  const servers: http.Server[] = [];

  before(async () => {
    back = await startTestGateway();
    vaultToken = (await back.key({ owner: 'front-gateway', scopes: ['memory:read', 'memory:write'] })).key;
    issuedToken = (await back.key({ owner: 'front-cc', scopes: ['memory:read'] })).key;

    const vault = await listen((req, res) => {
      const ok = req.headers['x-vault-token'] === VAULT_TOKEN && req.url === '/v1/secret/data/back';
      res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          ok ? { data: { data: { token: vaultToken }, metadata: { version: 3 } } } : { errors: [] },
        ),
      );
    });
    const oauth = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        tokenRequests.push({ authorization: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: issuedToken, token_type: 'Bearer', expires_in: 300 }));
      });
    });
    servers.push(vault.server, oauth.server);

    const reach = { allowHttp: true, allowAddresses: ['127.0.0.1/32'] };
    front = await startTestGateway({
      logger: log.logger,
      env: { VAULT_ADDR: vault.url, VAULT_TOKEN, CC_SECRET },
      config: upstreamsConfig([
        {
          name: 'back',
          http: { url: back.url, ...reach, auth: { bearer: { secret: 'vault:secret/back#token' } } },
          pinning: 'trust-on-first-use',
          tools: { 'memory_*': { class: 'write', labels: ['private-data'] } },
        },
        {
          name: 'back-cc',
          http: {
            url: back.url,
            ...reach,
            auth: {
              clientCredentials: {
                tokenUrl: `${oauth.url}/token`,
                clientId: 'portcullis-front',
                clientSecret: 'env:CC_SECRET',
                scope: 'memory:read',
              },
            },
          },
          pinning: 'trust-on-first-use',
        },
      ]),
    });
    frontKey = (await front.key({ scopes: ['back:write', 'back-cc:write'] })).key;
    client = await connectClient(front.url, frontKey);
  });
  after(async () => {
    await client?.close();
    await front?.close();
    await back?.close();
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
  });

  it('the remote tools appear namespaced, limited to what the gateway’s own credential may see', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name).filter((n) => n.includes('__'));
    assert.ok(names.includes('back__memory_save'));
    assert.ok(!names.includes('back__memory_delete'), 'the back gateway hides what its key may not call');
    assert.ok(names.includes('back-cc__memory_search'));
    assert.ok(!names.includes('back-cc__memory_save'));
  });

  it('calls go through with the credential from Vault, not the client’s token', async () => {
    const saved = await call(client, 'back__memory_save', { content: 'Written through two gateways.' });
    assert.equal(saved.isError, undefined, textOf(saved));
    const found = await call(client, 'back__memory_search', { query: 'gateways' });
    assert.match(textOf(found), /Written through two gateways/);
    // The client's own key means nothing to the back gateway: it was never forwarded.
    const direct = await postMcp(
      back.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { key: frontKey },
    );
    assert.equal(direct.status, 401);
  });

  it('client credentials are exchanged for a token (HTTP Basic, grant_type=client_credentials)', async () => {
    const r = await call(client, 'back-cc__memory_search', { query: 'anything' });
    assert.equal(r.isError, undefined, textOf(r));
    assert.ok(tokenRequests.length >= 1);
    const expected = `Basic ${Buffer.from(`portcullis-front:${CC_SECRET}`).toString('base64')}`;
    assert.equal(tokenRequests[0]!.authorization, expected);
    assert.match(tokenRequests[0]!.body, /grant_type=client_credentials/);
    assert.match(tokenRequests[0]!.body, /scope=memory%3Aread/);
  });

  it('no upstream credential appears in a log line', () => {
    for (const s of [vaultToken, issuedToken, CC_SECRET, VAULT_TOKEN]) {
      assert.ok(!log.lines.some((l) => l.includes(s)), 'a credential reached the log');
    }
  });
});
