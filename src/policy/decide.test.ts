import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, type DecisionInput } from './decide.js';

const now = new Date('2026-11-21T00:00:00Z');
const tool = (scope: string, cls: DecisionInput['tool']['class'] = 'read') => ({
  name: 't',
  scope,
  class: cls,
  labels: [],
});

describe('decide', () => {
  const table: [string, DecisionInput, string, string[]][] = [
    [
      'scope held → allow',
      { scopes: new Set(['memory:read']), tool: tool('memory:read'), now },
      'allow',
      ['scope-granted'],
    ],
    [
      'scope missing → deny',
      { scopes: new Set(['memory:read']), tool: tool('memory:write', 'write'), now },
      'deny',
      ['scope-missing'],
    ],
    ['no scopes → deny', { scopes: new Set(), tool: tool('memory:read'), now }, 'deny', ['scope-missing']],
    [
      'a scope prefix is not the scope',
      { scopes: new Set(['memory']), tool: tool('memory:read'), now },
      'deny',
      ['scope-missing'],
    ],
    [
      'destructive with scope → allow (confirmation arrives with the policy issue)',
      { scopes: new Set(['memory:delete']), tool: tool('memory:delete', 'destructive'), now },
      'allow',
      ['scope-granted'],
    ],
  ];
  for (const [what, input, effect, reasons] of table) {
    it(what, () => {
      const d = decide(input);
      assert.equal(d.effect, effect);
      assert.deepEqual(d.reasons, reasons);
    });
  }

  it('a denial names the scope the tool needs', () => {
    assert.equal(
      decide({ scopes: new Set(), tool: tool('memory:write'), now }).obligations.requiredScope,
      'memory:write',
    );
  });
});
