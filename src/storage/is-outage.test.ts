import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import pg from 'pg';
import { PortcullisError } from '../errors/index.js';
import { isStorageOutage } from './is-outage.js';

const wrapped = (cause: unknown) =>
  new PortcullisError('storage-failure', 'The database could not complete the request.', {
    detail: String(cause),
    cause,
  });

describe('isStorageOutage', () => {
  it('is true for a refused connection from node-postgres, wrapped as the stores wrap it', async () => {
    // A port nobody listens on: bound, then released.
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    const pool = new pg.Pool({ connectionString: `postgres://nobody@127.0.0.1:${port}/none` });
    const err = await pool.query('SELECT 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    await pool.end();
    assert.ok(err, 'the query failed');
    assert.equal(isStorageOutage(wrapped(err)), true);
  });

  it('is true for a broken connection and for the server shutting down', () => {
    assert.equal(isStorageOutage(wrapped(new Error('Connection terminated unexpectedly'))), true);
    assert.equal(
      isStorageOutage(Object.assign(new Error('terminating connection'), { code: '57P01' })),
      true,
    );
    assert.equal(isStorageOutage(Object.assign(new Error('no connection'), { code: '08006' })), true);
  });

  it('is false for a query the database answered with an error, and for anything else', () => {
    assert.equal(
      isStorageOutage(wrapped(Object.assign(new Error('duplicate key'), { code: '23505' }))),
      false,
    );
    assert.equal(isStorageOutage(Object.assign(new Error('permission denied'), { code: '42501' })), false);
    assert.equal(isStorageOutage(new TypeError('x is undefined')), false);
    assert.equal(isStorageOutage('ECONNREFUSED'), false);
  });
});
