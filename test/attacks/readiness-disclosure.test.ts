// Attack: read /readyz, which anyone may call (a load balancer needs it without a credential),
// to map the deployment: the name of every upstream MCP server behind the gateway, how often each
// crashed, and the driver's error text of a dependency that is down (a Redis or database
// address and port, a role name). Seen failing before the fix: the public body listed
// `upstreams: [{ name: 'payroll-ledger', state, restarts }]` and
// `redis.error: "connect ECONNREFUSED 127.0.0.1:<port>"`.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { NODE, REFERENCE_SERVERS, upstreamsConfig } from '../helpers/upstream-servers.js';

/** A loopback port with nothing listening on it (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('attack: an anonymous caller maps the deployment through /readyz', () => {
  let t: TestGateway;
  let redisPort: number;

  before(async () => {
    redisPort = await closedPort();
    t = await startTestGateway({
      config: upstreamsConfig([
        {
          name: 'payroll-ledger',
          stdio: { command: NODE, args: [REFERENCE_SERVERS.memory] },
          tools: { '*': { class: 'read' } },
        },
      ]),
      env: { PORTCULLIS_REDIS__URL: `redis://127.0.0.1:${redisPort}` },
    });
  });
  after(() => t.close());

  it('the public answer names no upstream and quotes no error text, address or port', async () => {
    const res = await fetch(new URL('/readyz', t.url));
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.doesNotMatch(text, /payroll-ledger/, 'an upstream is named');
    assert.doesNotMatch(text, new RegExp(String(redisPort)), 'the Redis port is quoted');
    assert.doesNotMatch(text, /127\.0\.0\.1|ECONNREFUSED|error|restarts|latency/i, text);
  });

  it('the legitimate use beside it: the state of each kind of dependency is public, the detail is on the metrics listener', async () => {
    const body = (await (await fetch(new URL('/readyz', t.url))).json()) as {
      status: string;
      checks: Record<string, { state: string }>;
    };
    assert.equal(body.status, 'degraded');
    assert.deepEqual(body.checks, {
      storage: { state: 'up' },
      audit: { state: 'up' },
      redis: { state: 'down' },
      upstreams: { state: 'up' },
    });
    // The operator's view, on the listener that is never exposed with /mcp.
    const detail = (await (await fetch(new URL('/readyz', t.gw.metricsUrl))).json()) as {
      checks: { redis: { state: string; error?: string } };
      upstreams: { name: string; state: string }[];
    };
    assert.equal(detail.checks.redis.state, 'down');
    assert.ok(detail.checks.redis.error, 'the operator sees why Redis is down');
    assert.deepEqual(
      detail.upstreams.map((u) => [u.name, u.state]),
      [['payroll-ledger', 'up']],
    );
  });
});
