import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkReadiness, type ReadinessProbes } from './readiness.js';

const up = async () => {};
const refused = async () => {
  throw new Error('connect ECONNREFUSED postgres://portcullis:secret@db.internal:5432/portcullis\nat …');
};
const hangs = () => new Promise<void>(() => {});
const probes = (over: Partial<ReadinessProbes>): ReadinessProbes => ({
  storage: up,
  audit: up,
  redis: undefined,
  upstreams: undefined,
  ...over,
});

describe('checkReadiness', () => {
  it('is ready when every configured dependency answers, and names only those configured', async () => {
    const r = await checkReadiness(probes({}));
    assert.equal(r.status, 'ready');
    assert.deepEqual(Object.keys(r.checks), ['storage', 'audit']);
    assert.equal(r.checks.storage.state, 'up');
  });

  it('is not ready when storage or the audit store is down, and says which', async () => {
    const storage = await checkReadiness(probes({ storage: refused }));
    assert.equal(storage.status, 'not-ready');
    assert.equal(storage.checks.storage.state, 'down');
    assert.equal(storage.checks.audit?.state, 'up');
    const audit = await checkReadiness(probes({ audit: refused }));
    assert.equal(audit.status, 'not-ready');
    assert.equal(audit.checks.audit?.state, 'down');
  });

  it('keeps the error to one line with no URL in it (a driver message may carry credentials)', async () => {
    const r = await checkReadiness(probes({ storage: refused }));
    assert.equal(r.checks.storage.error, 'connect ECONNREFUSED <url>');
  });

  it('counts a dependency that does not answer within the budget as down', async () => {
    const started = Date.now();
    const r = await checkReadiness(probes({ storage: hangs }), 100);
    assert.equal(r.checks.storage.state, 'down');
    assert.match(r.checks.storage.error ?? '', /no answer within 100 ms/);
    assert.ok(Date.now() - started < 1000);
  });

  it('is only degraded when Redis or an upstream is down: the replica still serves', async () => {
    const redis = await checkReadiness(probes({ redis: refused }));
    assert.equal(redis.status, 'degraded');
    assert.equal(redis.checks.redis?.state, 'down');
    const upstream = await checkReadiness(
      probes({ redis: up, upstreams: () => [{ name: 'crm', state: 'restarting', restarts: 2 } as never] }),
    );
    assert.equal(upstream.status, 'degraded');
    assert.deepEqual(upstream.upstreams, [{ name: 'crm', state: 'restarting', restarts: 2 }]);
  });
});
