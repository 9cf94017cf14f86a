// Attack: one session's (or upstream's) elicitation schema claims a name in the validator all
// sessions share, so another session's answer is checked against the attacker's schema, or fails
// to compile. The SDK gives each server its own Ajv engine; the gateway now shares one
// (mcp/shared-schema-validator.ts), which must not let names cross. Seen failing against a
// naively shared `AjvJsonSchemaValidator`: the second schema with the same `$id` got the first
// one's validator (the answer 'x' passed a schema that asks for a number). Also: a stream of
// distinct schemas must not grow the shared engine without bound (Ajv keeps what it compiled:
// 10,000 distinct schemas grew a naively shared engine's heap by ~43 MiB).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSharedSchemaValidator } from '../../src/mcp/shared-schema-validator.js';

describe('attack: schema names across sessions sharing one validator', () => {
  it('a second schema with the same $id is checked against itself, not the first', () => {
    const v = createSharedSchemaValidator();
    const lax = { $id: 'https://evil.example/answer', type: 'object' as const };
    const strict = {
      $id: 'https://evil.example/answer',
      type: 'object' as const,
      properties: { amount: { type: 'number' as const } },
      required: ['amount'],
    };
    assert.equal(v.getValidator(lax)({ amount: 'x' }).valid, true);
    assert.equal(v.getValidator(strict)({ amount: 'x' }).valid, false);
    assert.equal(v.size(), 0, 'named schemas are never kept in the shared engine');
  });

  it('the same $anchor in two schemas does not break the second', () => {
    const v = createSharedSchemaValidator();
    const withAnchor = (t: 'string' | 'number') => ({
      type: 'object' as const,
      properties: { a: { $anchor: 'field', type: t } },
    });
    assert.equal(v.getValidator(withAnchor('string'))({ a: 's' }).valid, true);
    assert.equal(v.getValidator(withAnchor('number'))({ a: 1 }).valid, true);
    assert.equal(v.getValidator(withAnchor('number'))({ a: 's' }).valid, false);
  });

  it('10,000 distinct schemas leave the shared engine bounded', () => {
    const v = createSharedSchemaValidator();
    for (let i = 0; i < 10_000; i++) {
      v.getValidator({ type: 'object', properties: { [`k${i}`]: { type: 'string' } } })({});
    }
    assert.ok(v.size() <= 64);
  });
});
