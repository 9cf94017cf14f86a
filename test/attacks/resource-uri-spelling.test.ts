// Attack: the operator scopes an upstream's resources per URI pattern (`file:///srv/docs/hr/*`
// needs `files:hr`), and a caller holding only the broad scopes spells the HR file another way —
// a dot segment under a public directory, a percent-encoded letter, an upper-case scheme, a
// `localhost` host, a backslash, a doubled slash. The server resolves every spelling to the same
// file (WHATWG URL parsing and `fileURLToPath`, as Node file servers do), so a rule matched
// against the raw text would be walked around. Before the fix each of these spellings was
// classified by its raw text (the public rule, or no rule at all) and the HR file was served.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { modernHeaders } from '../helpers/audit-records.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

const SERVER = path.resolve(import.meta.dirname, '../fixtures/file-resource-server.js');
const HR = 'portcullis://files/file:///srv/docs/hr/salaries.txt';
const PUBLIC = 'portcullis://files/file:///srv/docs/public/readme.txt';

/** Other spellings of the HR file that the server resolves to the same path. */
const SPELLINGS = [
  'file:///srv/docs/public/../hr/salaries.txt',
  'file:///srv/docs/public/%2e%2e/hr/salaries.txt',
  'file:///srv/docs/%68r/salaries.txt',
  'file:///srv/docs/%2568r/salaries.txt',
  'FILE:///srv/docs/hr/salaries.txt',
  'file://localhost/srv/docs/hr/salaries.txt',
  'file:/srv/docs/hr/salaries.txt',
  'file:///srv/docs/public\\..\\hr\\salaries.txt',
  'file:///srv/docs//hr/salaries.txt',
  'file:///srv/docs/public/./../hr/./salaries.txt',
].map((u) => `portcullis://files/${u}`);

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** One raw request in either era: 2025-11-25 stateless, or 2026-07-28 with its envelope and headers. */
const rpc = async (
  t: TestGateway,
  key: string,
  method: string,
  params: Record<string, unknown>,
  version: string,
) => {
  const modern = version === '2026-07-28';
  const res = await fetch(t.url, {
    method: 'POST',
    headers: modern
      ? modernHeaders(key, method, typeof params.uri === 'string' ? params.uri : undefined)
      : {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': version,
          authorization: `Bearer ${key}`,
        },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method,
      params: modern ? { ...params, _meta: ENVELOPE } : params,
    }),
  });
  return {
    status: res.status,
    body: method === 'subscriptions/listen' ? await firstMessage(res) : await res.text(),
  };
};

/**
 * The body up to its first complete message: an accepted subscriptions/listen is a stream that
 * stays open, so the test reads its first event (the acknowledgement) and lets go.
 */
async function firstMessage(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
    if (!/\n\n/.test(text)) continue;
    await reader.cancel();
    return text;
  }
}

const read = (t: TestGateway, key: string, uri: string, version = '2025-11-25') =>
  rpc(t, key, 'resources/read', { uri }, version);

describe('attack: another spelling of a resource URI to escape its per-URI scope rule', () => {
  let t: TestGateway;
  let mallory: string;
  let hr: string;

  before(async () => {
    t = await startTestGateway({
      config: upstreamsConfig([
        {
          name: 'files',
          stdio: { command: NODE, args: [SERVER] },
          pinning: 'trust-on-first-use',
          resources: {
            'file:///srv/docs/public/*': { scope: 'files:public' },
            'file:///srv/docs/hr/*': { scope: 'files:hr', labels: ['private-data', 'untrusted-source'] },
          },
        },
      ]),
    });
    mallory = (await t.key({ owner: 'mallory', scopes: ['files:public', 'files:resources'] })).key;
    hr = (await t.key({ owner: 'hana', scopes: ['files:hr'] })).key;
    await eventually(async () => {
      const r = await read(t, mallory, PUBLIC);
      return r.body.includes('public notes') ? true : undefined;
    }, 'the files upstream to serve its resources');
  });
  after(async () => t?.close());

  it('no spelling of the HR file is served to a caller without files:hr, in either era', async () => {
    for (const uri of SPELLINGS) {
      for (const version of ['2025-11-25', '2026-07-28']) {
        const r = await read(t, mallory, uri, version);
        assert.doesNotMatch(r.body, /HR ONLY/, `${version} ${uri} leaked the HR file`);
        assert.equal(r.status, 403, `${version} ${uri}: ${r.status} ${r.body.slice(0, 300)}`);
        assert.match(r.body, /files:hr/);
      }
    }
  });

  it('subscribing by another spelling is refused like the read', async () => {
    const listen = (uri: string) =>
      rpc(
        t,
        mallory,
        'subscriptions/listen',
        { notifications: { resourceSubscriptions: [uri] } },
        '2026-07-28',
      );
    const r = await listen(SPELLINGS[0]!);
    assert.match(r.body, /"code":-32602/, r.body.slice(0, 300));
    assert.match(r.body, /Resource not found/);
  });

  it('the holder of files:hr reads the HR file, and the public file stays public', async () => {
    const own = await read(t, hr, HR);
    assert.equal(own.status, 200);
    assert.match(own.body, /HR ONLY/);
    const pub = await read(t, mallory, PUBLIC);
    assert.match(pub.body, /public notes/);
    const direct = await read(t, mallory, HR);
    assert.equal(direct.status, 403);
  });
});
