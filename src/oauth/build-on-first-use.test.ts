import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildOnFirstUse } from './build-on-first-use.js';

test('concurrent first callers share one build', async () => {
  let builds = 0;
  const lazy = buildOnFirstUse(async () => {
    builds++;
    await new Promise((r) => setTimeout(r, 10));
    return { n: builds };
  });
  assert.equal(lazy.peek(), undefined);
  const all = await Promise.all(Array.from({ length: 50 }, () => lazy.get()));
  assert.equal(builds, 1);
  assert.ok(all.every((v) => v === all[0]));
  assert.equal(lazy.peek(), all[0]);
  assert.equal(await lazy.get(), all[0]);
  assert.equal(builds, 1);
});

test('a failed build reaches every caller that waited on it and is retried by the next call', async () => {
  let builds = 0;
  const lazy = buildOnFirstUse(async () => {
    builds++;
    await new Promise((r) => setTimeout(r, 5));
    if (builds === 1) throw new Error('first build fails');
    return 'built';
  });
  const first = await Promise.allSettled([lazy.get(), lazy.get(), lazy.get()]);
  assert.deepEqual(
    first.map((r) => r.status),
    ['rejected', 'rejected', 'rejected'],
  );
  assert.equal(builds, 1);
  assert.equal(lazy.peek(), undefined);
  assert.equal(await lazy.get(), 'built');
  assert.equal(builds, 2);
});

test('a build whose value is undefined is still built once', async () => {
  let builds = 0;
  const lazy = buildOnFirstUse(async () => {
    builds++;
  });
  await lazy.get();
  await lazy.get();
  assert.equal(builds, 1);
});
