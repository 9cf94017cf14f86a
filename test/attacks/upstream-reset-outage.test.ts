// Attack: a hostile HTTP server the gateway talks to (a remote upstream, an authorization
// server, a webhook receiver) resets every connection, so the failure carries ECONNRESET. The
// gateway's outage test counted any ECONNRESET in a cause chain as "the database cannot be
// reached": a route that let such an error through would answer 503 "database down, nothing was
// run", raise the `storage-unavailable` alert and invite retries, all on an attacker's word.
// Seen failing before the fix: the egress guard's `egress-network-error` (cause ECONNRESET from
// a real socket reset) was classified as a storage outage. Every outbound request goes through
// the guard (DESIGN.md: exactly one way out), so its errors are never the database's.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createEgressGuard, type EgressGuard } from '../../src/egress/index.js';
import { PortcullisError } from '../../src/errors/index.js';
import { isStorageOutage } from '../../src/storage/index.js';

describe('attack: a hostile server resetting its connections passes for a database outage', () => {
  let hostile: net.Server;
  let port: number;
  let guard: EgressGuard;
  before(async () => {
    // Reads the request, then resets the connection (RST, not FIN): the client sees ECONNRESET.
    hostile = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    port = (hostile.address() as net.AddressInfo).port;
    guard = createEgressGuard({
      allowHosts: ['127.0.0.1'],
      allowHttpHosts: ['127.0.0.1'],
      allowAddresses: ['127.0.0.1/32'],
      timeoutMs: 2000,
    });
  });
  after(async () => {
    await guard.close();
    await new Promise((r) => hostile.close(r));
  });

  it('an outbound request reset by its server is not a storage outage', async () => {
    const err = await guard.fetch(`http://127.0.0.1:${port}/token`, { method: 'POST', body: 'x' }).then(
      () => assert.fail('the hostile server answered'),
      (e: unknown) => e,
    );
    const chain: unknown[] = [];
    for (let e = err; e instanceof Error; e = e.cause) chain.push((e as { code?: unknown }).code);
    assert.ok(chain.includes('ECONNRESET'), `the reset is in the cause chain: ${JSON.stringify(chain)}`);
    assert.equal(isStorageOutage(err), false);
    // However a route wraps it, it stays the upstream's failure.
    assert.equal(isStorageOutage(new Error('token request failed', { cause: err })), false);
  });

  it('the legitimate use beside it: the database itself unreachable is still an outage', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const free = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const pool = new pg.Pool({ connectionString: `postgres://nobody@127.0.0.1:${free}/none` });
    const err = await pool.query('SELECT 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    await pool.end();
    const stored = new PortcullisError('storage-failure', 'The database could not complete the request.', {
      cause: err,
    });
    assert.equal(isStorageOutage(stored), true);
    assert.equal(
      isStorageOutage(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })),
      true,
      "a reset of the database's own connection still counts",
    );
  });
});
