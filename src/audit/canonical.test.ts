import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, CanonicalJsonError } from './canonical.js';

test('object keys are sorted by UTF-16 code units as in the RFC 8785 example', () => {
  const input = {
    '\u20ac': 'Euro Sign',
    '\r': 'Carriage Return',
    '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face',
    '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  // Read the keys from the text: JSON.parse would put the integer-like key "1" first.
  const keys = [...canonicalJson(input).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map(
    (m) => JSON.parse(`"${m[1]}"`) as string,
  );
  assert.deepEqual(keys, ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
});

test('numbers use the ECMAScript serialisation', () => {
  assert.equal(
    canonicalJson([1e21, 1e30, 4.5, 0.002, 0.000001, 1e-7, -0, 333333333.3333333]),
    '[1e+21,1e+30,4.5,0.002,0.000001,1e-7,0,333333333.3333333]',
  );
});

test('the output has no whitespace and nests objects in sorted order', () => {
  assert.equal(
    canonicalJson({ b: [1, { d: true, c: null }], a: 'x' }),
    '{"a":"x","b":[1,{"c":null,"d":true}]}',
  );
});

test('strings are escaped as JSON.stringify escapes them', () => {
  assert.equal(canonicalJson('a"b\\c\n\u0001\u2028'), '"a\\"b\\\\c\\n\\u0001\u2028"');
});

test('undefined properties are left out', () => {
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
});

test('non-finite numbers, lone surrogates and non-JSON values are rejected', () => {
  assert.throws(() => canonicalJson({ n: Number.NaN }), CanonicalJsonError);
  assert.throws(() => canonicalJson([Infinity]), CanonicalJsonError);
  assert.throws(() => canonicalJson('\ud800'), CanonicalJsonError);
  assert.throws(() => canonicalJson({ d: new Date(0) }), CanonicalJsonError);
  assert.throws(() => canonicalJson([undefined]), CanonicalJsonError);
  assert.throws(() => canonicalJson(10n), CanonicalJsonError);
});
