import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCallShape } from './check-call.js';

describe('the shape of tools/call params', () => {
  it('a string name and object (or absent) arguments pass, arguments defaulting to {}', () => {
    assert.deepEqual(checkCallShape({ name: 'memory_save', arguments: { content: 'x' } }), {
      ok: true,
      name: 'memory_save',
      args: { content: 'x' },
    });
    assert.deepEqual(checkCallShape({ name: 'memory_search' }), {
      ok: true,
      name: 'memory_search',
      args: {},
    });
  });

  for (const [what, params] of [
    ['no params', undefined],
    ['array params', [1]],
    ['no name', { arguments: {} }],
    ['a numeric name', { name: 1 }],
    ['array arguments', { name: 'x', arguments: [] }],
    ['null arguments', { name: 'x', arguments: null }],
    ['string arguments', { name: 'x', arguments: 'a=1' }],
  ] as const) {
    it(`${what} is malformed`, () => {
      const shape = checkCallShape(params);
      assert.equal(shape.ok, false);
      assert.equal(!shape.ok && shape.reason, 'params-malformed');
      assert.match(!shape.ok ? shape.message : '', /^Invalid params: /);
    });
  }

  it('keeps the name of a call whose arguments are malformed, for its record', () => {
    const shape = checkCallShape({ name: 'memory_save', arguments: [] });
    assert.equal(shape.name, 'memory_save');
  });

  for (const [what, args, where] of [
    ['an infinite number', { n: Infinity }, 'arguments.n'],
    ['a negative infinity deep inside', { a: [{ b: -Infinity }] }, 'arguments.a[0].b'],
    ['NaN', { n: NaN }, 'arguments.n'],
    ['a lone surrogate in a value', { s: 'a\ud800' }, 'arguments.s'],
    ['a lone surrogate in a key', { '\udc00': 1 }, 'arguments'],
  ] as const) {
    it(`${what} is not I-JSON and is refused, saying where`, () => {
      const shape = checkCallShape({ name: 'tool', arguments: args });
      assert.equal(shape.ok, false);
      assert.equal(!shape.ok && shape.reason, 'arguments-not-canonical');
      assert.ok(!shape.ok && shape.message.includes(where), !shape.ok ? shape.message : '');
    });
  }

  it('large finite numbers, paired surrogates and __proto__ keys are I-JSON', () => {
    const args = JSON.parse(
      '{"n":1.7976931348623157e308,"s":"\\ud83d\\ude00","__proto__":{"x":1}}',
    ) as object;
    assert.equal(checkCallShape({ name: 'tool', arguments: args }).ok, true);
  });
});
