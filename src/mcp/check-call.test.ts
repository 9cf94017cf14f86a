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

describe('the shape of resources/read, prompts/get and completion/complete params', () => {
  it('a resource read names its URI and passes exactly { uri }', () => {
    assert.deepEqual(checkCallShape({ uri: 'portcullis://fs/file:///a.txt', extra: 1 }, 'resources/read'), {
      ok: true,
      name: 'portcullis://fs/file:///a.txt',
      args: { uri: 'portcullis://fs/file:///a.txt' },
    });
  });

  it('a prompt get names the prompt and passes its arguments', () => {
    assert.deepEqual(checkCallShape({ name: 'p__greet', arguments: { who: 'Ann' } }, 'prompts/get'), {
      ok: true,
      name: 'p__greet',
      args: { who: 'Ann' },
    });
  });

  it('a completion names its ref and passes ref, argument and context', () => {
    const params = {
      ref: { type: 'ref/prompt', name: 'p__greet' },
      argument: { name: 'who', value: 'A' },
      context: { arguments: { lang: 'en' } },
    };
    assert.deepEqual(checkCallShape(params, 'completion/complete'), {
      ok: true,
      name: 'p__greet',
      args: params,
    });
  });

  for (const [what, method, params] of [
    ['a resource read without a uri', 'resources/read', {}],
    ['a resource read with an empty uri', 'resources/read', { uri: '' }],
    ['a resource read with a numeric uri', 'resources/read', { uri: 7 }],
    ['a resource read with a 9 KB uri', 'resources/read', { uri: `portcullis://fs/${'a'.repeat(9000)}` }],
    ['a prompt get with array arguments', 'prompts/get', { name: 'p', arguments: ['a'] }],
    [
      'a completion with an unknown ref type',
      'completion/complete',
      { ref: { type: 'ref/tool', name: 'x' }, argument: { name: 'a', value: 'b' } },
    ],
    [
      'a completion whose argument value is a number',
      'completion/complete',
      { ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'a', value: 1 } },
    ],
    [
      'a completion with a string context',
      'completion/complete',
      { ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'a', value: 'b' }, context: 'x' },
    ],
  ] as const) {
    it(`${what} is malformed`, () => {
      const shape = checkCallShape(params, method);
      assert.equal(shape.ok, false);
      assert.equal(!shape.ok && shape.reason, 'params-malformed');
    });
  }

  it('a prompt argument that is not I-JSON is refused before anything runs', () => {
    const shape = checkCallShape({ name: 'p', arguments: { who: '\ud800' } }, 'prompts/get');
    assert.equal(!shape.ok && shape.reason, 'arguments-not-canonical');
  });
});
