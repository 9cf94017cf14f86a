// Attack: make the gateway report itself not ready (so the load balancer takes every replica out)
// by flooding /readyz, which anyone may call. Each request ran its own round trip to the
// database and the audit store; a few hundred at once queue on the connection pool, the probes
// pass their 1 s limit, and /readyz answers 503 "storage down" while the database is fine (and
// the pool is busy with probes instead of tool calls). Seen failing before the fix: with a real
// PostgreSQL pool of 2 and a query of ~50 ms (a busy database), 200 concurrent checks ran 400
// queries and most answered not-ready.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createReadinessCheck, type ReadinessProbes } from '../../src/http/index.js';

describe('attack: a /readyz flood reports a healthy database as down', () => {
  let pool: pg.Pool;
  let queries = 0;
  let probes: ReadinessProbes;

  before(() => {
    pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 2 });
    const busyQuery = async () => {
      queries++;
      await pool.query('SELECT pg_sleep(0.05)');
    };
    probes = { storage: busyQuery, audit: busyQuery, redis: undefined, upstreams: undefined };
  });
  after(() => pool.end());

  it('200 concurrent checks cost a handful of queries and all say ready', async () => {
    const check = createReadinessCheck(probes);
    queries = 0;
    const results = await Promise.all(Array.from({ length: 200 }, () => check()));
    const notReady = results.filter((r) => r.status !== 'ready').length;
    assert.equal(notReady, 0, `${notReady} of 200 said not-ready while PostgreSQL was up`);
    assert.ok(queries <= 4, `${queries} database round trips for one burst`);
  });

  it('the legitimate use still works: a database that goes away is seen on the next check', async () => {
    let down = false;
    const check = createReadinessCheck({
      ...probes,
      storage: async () => {
        if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:1');
        await pool.query('SELECT 1');
      },
    });
    assert.equal((await check()).status, 'ready');
    down = true;
    await new Promise((r) => setTimeout(r, 1100));
    const r = await check();
    assert.equal(r.status, 'not-ready');
    assert.equal(r.checks.storage.state, 'down');
  });
});
