import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGlobRules, globToRegExp, mostSpecificRule } from './index.js';

describe('tool-name globs', () => {
  it('a star matches any run of characters and the pattern is anchored at both ends', () => {
    assert.ok(globToRegExp('web__*').test('web__fetch'));
    assert.ok(globToRegExp('web__*').test('web__'));
    assert.ok(!globToRegExp('web__*').test('xweb__fetch'));
    assert.ok(globToRegExp('*.delete').test('db.delete'));
    assert.ok(globToRegExp('a*b*c').test('a-x-b-y-c'));
  });

  it('every character other than the star is literal', () => {
    assert.ok(!globToRegExp('a.b').test('axb'));
    assert.ok(globToRegExp('a+b(c)[d]-e$^|?').test('a+b(c)[d]-e$^|?'));
    assert.ok(!globToRegExp('a?').test('ab'));
    assert.ok(globToRegExp('a\\b').test('a\\b'));
  });

  it('an exact name outranks every glob, whatever the order', () => {
    const rules = compileGlobRules({ 'db__*': 'glob', db__drop: 'exact', '*': 'any' });
    assert.equal(mostSpecificRule(rules, 'db__drop')?.rule, 'exact');
  });

  it('among globs the one with the most literal characters wins, the first on a tie', () => {
    const rules = compileGlobRules({ '*': 'any', 'db__*': 'db', 'db__d*': 'db-d', 'db__*p': 'db-p' });
    assert.equal(mostSpecificRule(rules, 'db__read')?.rule, 'db');
    assert.equal(mostSpecificRule(rules, 'db__drop')?.rule, 'db-d');
    assert.equal(mostSpecificRule(rules, 'web__fetch')?.rule, 'any');
    assert.equal(mostSpecificRule(rules, 'db__drop')?.pattern, 'db__d*');
  });

  it('no matching rule yields undefined', () => {
    assert.equal(mostSpecificRule(compileGlobRules({ 'db__*': 1, exact: 2 }), 'web__fetch'), undefined);
    assert.equal(mostSpecificRule(compileGlobRules({ exact: 2 }), 'exactly'), undefined);
  });
});
