import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createEgressGuard, type EgressGuardOptions } from './create-egress-guard.js';
import type { Resolve, ResolvedAddress } from './create-connector.js';
import { EgressError, type EgressErrorCode } from './errors.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const routes: Record<string, Handler> = {
  '/ok': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-test': 'yes' });
    res.end('hello from the test server');
  },
  '/echo-auth': (req, res) => {
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? null, host: req.headers.host }));
  },
  '/redirect-ok': (_req, res) => {
    res.writeHead(302, { location: '/ok' });
    res.end();
  },
  '/redirect-metadata': (_req, res) => {
    res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
    res.end();
  },
  '/redirect-internal-name': (req, res) => {
    res.writeHead(307, { location: `http://internal.test:${port(req)}/ok` });
    res.end();
  },
  '/redirect-other-origin': (req, res) => {
    res.writeHead(302, { location: `http://other.test:${port(req)}/echo-auth` });
    res.end();
  },
  '/redirect-file': (_req, res) => {
    res.writeHead(301, { location: 'file:///etc/passwd' });
    res.end();
  },
  '/loop': (_req, res) => {
    res.writeHead(302, { location: '/loop' });
    res.end();
  },
  '/big-chunked': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (let i = 0; i < 64; i++) res.write('x'.repeat(1024));
    res.end();
  },
  '/big-declared': (_req, res) => {
    res.writeHead(200, { 'content-length': String(64 * 1024) });
    res.end('y'.repeat(64 * 1024));
  },
  '/hang': () => {
    // Never answers: the guard's deadline must end the request.
  },
};

function port(req: IncomingMessage): string {
  return (req.socket.address() as AddressInfo).port.toString();
}

let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    const handler = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

/** A resolver that answers from a table and never touches real DNS. */
function stubResolve(table: Record<string, string[]>): Resolve {
  return (hostname) => {
    const answer = table[hostname];
    if (!answer) return Promise.reject(new Error(`ENOTFOUND ${hostname}`));
    return Promise.resolve(
      answer.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
}

function localGuard(extra: Partial<EgressGuardOptions> = {}) {
  return createEgressGuard({
    allowHosts: ['*'],
    allowHttpHosts: ['127.0.0.1', '*.test'],
    allowAddresses: ['127.0.0.1/32'],
    resolve: stubResolve({ 'other.test': ['127.0.0.1'], 'internal.test': ['127.0.0.2'] }),
    ...extra,
  });
}

async function refusal(promise: Promise<unknown>): Promise<EgressError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof EgressError, `expected an EgressError, got ${String(err)}`);
    return err;
  }
  assert.fail('the request succeeded');
}

async function refusalCode(promise: Promise<unknown>): Promise<EgressErrorCode> {
  return (await refusal(promise)).code;
}

describe('createEgressGuard', () => {
  it('fetches from an allowed local server and returns status, headers, bytes and text', async () => {
    const guard = localGuard();
    const res = await guard.fetch(`${base}/ok`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-test'), 'yes');
    assert.equal(res.finalUrl, `${base}/ok`);
    assert.equal(res.text(), 'hello from the test server');
    assert.equal(res.bytes.byteLength, 26);
    await guard.close();
  });

  it('follows a same-origin redirect and reports the final URL', async () => {
    const guard = localGuard();
    const res = await guard.fetch(`${base}/redirect-ok`);
    assert.equal(res.finalUrl, `${base}/ok`);
    assert.equal(res.text(), 'hello from the test server');
    await guard.close();
  });

  it('refuses a redirect from an allowed server to the cloud metadata address', async () => {
    const guard = localGuard({ allowHttpHosts: ['*'] });
    assert.equal(await refusalCode(guard.fetch(`${base}/redirect-metadata`)), 'egress-blocked-address');
    await guard.close();
  });

  it('refuses a redirect to a name that resolves to an internal address, at connect time', async () => {
    const guard = localGuard();
    const err = await refusal(guard.fetch(`${base}/redirect-internal-name`));
    assert.equal(err.code, 'egress-blocked-address');
    assert.doesNotMatch(err.publicMessage, /127\.0\.0\.2/);
    assert.equal(err.detail, '127.0.0.2 is loopback');
    await guard.close();
  });

  it('refuses a redirect to a file: URL', async () => {
    const guard = localGuard();
    assert.equal(await refusalCode(guard.fetch(`${base}/redirect-file`)), 'egress-scheme-not-allowed');
    await guard.close();
  });

  it('stops after the configured number of redirects', async () => {
    const guard = localGuard({ maxRedirects: 3 });
    assert.equal(await refusalCode(guard.fetch(`${base}/loop`)), 'egress-too-many-redirects');
    await guard.close();
  });

  it('keeps Authorization on the same origin and strips it on a cross-origin redirect', async () => {
    const guard = localGuard();
    const headers = { authorization: 'Bearer s3cret-token', host: 'spoofed.example' };
    const same = JSON.parse((await guard.fetch(`${base}/echo-auth`, { headers })).text()) as Record<
      string,
      unknown
    >;
    assert.equal(same.authorization, 'Bearer s3cret-token');
    assert.notEqual(same.host, 'spoofed.example');
    const moved = await guard.fetch(`${base}/redirect-other-origin`, { headers });
    assert.match(moved.finalUrl, /^http:\/\/other\.test:/);
    assert.equal((JSON.parse(moved.text()) as Record<string, unknown>).authorization, null);
    await guard.close();
  });

  it('aborts a chunked response as soon as it passes the size cap', async () => {
    const guard = localGuard({ maxBytes: 4096 });
    const err = await refusal(guard.fetch(`${base}/big-chunked`));
    assert.equal(err.code, 'egress-response-too-large');
    assert.match(err.publicMessage, /4096-byte limit/);
    await guard.close();
  });

  it('refuses a response whose declared length exceeds the size cap', async () => {
    const guard = localGuard({ maxBytes: 4096 });
    assert.equal(await refusalCode(guard.fetch(`${base}/big-declared`)), 'egress-response-too-large');
    await guard.close();
  });

  it('gives up on a server that never answers with a timeout error', async () => {
    const guard = localGuard({ timeoutMs: 200 });
    assert.equal(await refusalCode(guard.fetch(`${base}/hang`)), 'egress-timeout');
    await guard.close();
  });

  it('reports a caller cancellation as aborted', async () => {
    const guard = localGuard();
    const controller = new AbortController();
    const pending = guard.fetch(`${base}/hang`, { signal: controller.signal });
    setImmediate(() => controller.abort());
    assert.equal(await refusalCode(pending), 'egress-aborted');
    await guard.close();
  });

  it('refuses the loopback server when its address is not allowed', async () => {
    const guard = localGuard({ allowAddresses: [] });
    assert.equal(await refusalCode(guard.fetch(`${base}/ok`)), 'egress-blocked-address');
    await guard.close();
  });

  it('refuses a name when any resolved address is internal, even if a public one comes first', async () => {
    const guard = createEgressGuard({
      allowHosts: ['*'],
      resolve: stubResolve({ 'mixed.example': ['93.184.215.14', '127.0.0.1'] }),
    });
    const err = await refusal(guard.fetch('https://mixed.example/'));
    assert.equal(err.code, 'egress-blocked-address');
    assert.doesNotMatch(err.publicMessage, /127\.0\.0\.1/);
    await guard.close();
  });

  it('judges the address resolved at connect time, so DNS rebinding after a check is refused', async () => {
    let calls = 0;
    const rebinding: Resolve = () => {
      calls += 1;
      const address = calls === 1 ? '93.184.215.14' : '127.0.0.1';
      return Promise.resolve([{ address, family: 4 }]);
    };
    // A first resolution (what a check-then-fetch design would have trusted) says "public".
    assert.deepEqual(await rebinding('rebind.example'), [{ address: '93.184.215.14', family: 4 }]);
    const guard = createEgressGuard({ allowHosts: ['*.example'], resolve: rebinding });
    assert.equal(await refusalCode(guard.fetch('https://rebind.example/')), 'egress-blocked-address');
    assert.equal(calls, 2);
    await guard.close();
  });

  it('resolves a plain name to an internal address and refuses it', async () => {
    const guard = createEgressGuard({
      allowHosts: ['localhost'],
      resolve: stubResolve({ localhost: ['::1', '127.0.0.1'] }),
    });
    assert.equal(await refusalCode(guard.fetch('https://localhost/')), 'egress-blocked-address');
    await guard.close();
  });

  it('reports a name that does not resolve as a network error', async () => {
    const guard = createEgressGuard({ allowHosts: ['*'], resolve: stubResolve({}) });
    assert.equal(await refusalCode(guard.fetch('https://nowhere.example/')), 'egress-network-error');
    await guard.close();
  });

  it('refuses an invalid option at creation', () => {
    assert.throws(() => createEgressGuard({ allowHosts: ['bad host/'] }), { code: 'config-invalid' });
    assert.throws(() => createEgressGuard({ allowHosts: [], allowAddresses: ['nope'] }), {
      code: 'config-invalid',
    });
    assert.throws(() => createEgressGuard({ allowHosts: [], maxBytes: -1 }), { code: 'config-invalid' });
  });
});
