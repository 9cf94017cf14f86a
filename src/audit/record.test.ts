import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeArgs } from './record.js';

const key = Buffer.alloc(32, 7);

test('describeArgs keeps the shape of the arguments and none of their values', () => {
  const described = describeArgs(
    { query: 'secret words', limit: 5, tags: ['a', 'b'], opts: { deep: true, n: null } },
    key,
    {
      fullPayload: false,
    },
  );
  assert.deepEqual(described.shape, {
    limit: 'number',
    opts: { deep: 'boolean', n: 'null' },
    query: 'string(12)',
    tags: 'array(2)',
  });
  assert.equal(described.payload, undefined);
  assert.doesNotMatch(JSON.stringify(described), /secret/);
});

test('describeArgs hashes canonically, so key order does not change the hash', () => {
  const a = describeArgs({ a: 1, b: 'x' }, key, { fullPayload: false });
  const b = describeArgs({ b: 'x', a: 1 }, key, { fullPayload: false });
  assert.equal(a.hash, b.hash);
  assert.match(a.hash, /^[0-9a-f]{64}$/);
});

test('describeArgs hash depends on the key', () => {
  const a = describeArgs({ a: 1 }, key, { fullPayload: false });
  const b = describeArgs({ a: 1 }, Buffer.alloc(32, 8), { fullPayload: false });
  assert.notEqual(a.hash, b.hash);
});

test('describeArgs includes the payload only when full payload logging is on', () => {
  const described = describeArgs({ q: 'hello' }, key, { fullPayload: true });
  assert.deepEqual(described.payload, { q: 'hello' });
});
