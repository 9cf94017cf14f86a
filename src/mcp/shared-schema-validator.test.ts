import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSharedSchemaValidator } from './shared-schema-validator.js';

const confirm = () => ({
  type: 'object' as const,
  properties: { confirm: { type: 'boolean' as const } },
  required: ['confirm'],
});

describe('the shared schema validator of elicitation answers', () => {
  it('validates as the SDK default does, and compiles a schema text once', () => {
    const v = createSharedSchemaValidator();
    assert.equal(v.getValidator(confirm())({ confirm: true }).valid, true);
    const refused = v.getValidator(confirm())({ confirm: 'yes' });
    assert.equal(refused.valid, false);
    assert.match(refused.errorMessage ?? '', /boolean/);
    assert.equal(v.size(), 1, 'fresh objects of the same schema share one compiled validator');
    const email = {
      type: 'object' as const,
      properties: { e: { type: 'string' as const, format: 'email' } },
    };
    assert.equal(v.getValidator(email)({ e: 'not an address' }).valid, false, 'formats are checked');
  });

  it('keeps at most its bound of compiled schemas', () => {
    const v = createSharedSchemaValidator(8);
    for (let i = 0; i < 100; i++) {
      const s = { type: 'object' as const, properties: { [`f${i}`]: { type: 'number' as const } } };
      assert.equal(v.getValidator(s)({ [`f${i}`]: 'x' }).valid, false);
    }
    assert.ok(v.size() <= 8);
    // An evicted schema compiles again and still validates.
    const again = { type: 'object' as const, properties: { f0: { type: 'number' as const } } };
    assert.equal(v.getValidator(again)({ f0: 1 }).valid, true);
  });
});
