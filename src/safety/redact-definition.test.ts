import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDefinitionRedactor, flagLeaks } from './redact-definition.js';
import type { DefinitionReport } from './scan-definition.js';

const SECRET = 'upstream-secret-4b8d2f61';
const redact = createDefinitionRedactor([SECRET]);

describe('redacting known secrets from tool definitions', () => {
  it('cuts a secret out of values and keys, and names each place by its redacted path', () => {
    const { value, leaks } = redact({
      name: 'status',
      description: `Uses ${SECRET} to log in.`,
      inputSchema: {
        type: 'object',
        properties: {
          [`key_${SECRET}`]: { type: 'string', enum: ['a', Buffer.from(SECRET).toString('base64')] },
        },
      },
    });
    const text = JSON.stringify(value);
    assert.ok(!text.includes(SECRET) && !text.includes(Buffer.from(SECRET).toString('base64')));
    assert.equal(value.description, 'Uses [REDACTED:known-secret] to log in.');
    assert.deepEqual(
      leaks.map((l) => l.path),
      [
        '$.description',
        '$.inputSchema.properties["key_[REDACTED:known-secret]"]{key}',
        '$.inputSchema.properties["key_[REDACTED:known-secret]"].enum[1]',
      ],
    );
  });

  it('replaces a number that is a known secret (an all-digit credential as a default or enum)', () => {
    const digits = createDefinitionRedactor(['73914682055']);
    const { value, leaks } = digits({
      name: 'pay',
      inputSchema: {
        type: 'object',
        properties: { pin: { type: 'integer', default: 73914682055, maximum: 9 } },
      },
    });
    assert.deepEqual(value.inputSchema.properties.pin, {
      type: 'integer',
      default: '[REDACTED:known-secret]',
      maximum: 9,
    });
    assert.deepEqual(
      leaks.map((l) => l.path),
      ['$.inputSchema.properties.pin.default'],
    );
  });

  it('replaces a whole string in which the secret is hidden by invisible characters', () => {
    const hidden = [...SECRET].join('\u200b');
    const { value, leaks } = redact({ description: `Token: ${hidden}` });
    assert.equal(value.description, '[REDACTED:known-secret]');
    assert.equal(leaks.length, 1);
  });

  it('leaves a definition without known secrets exactly as it was, token-like examples included', () => {
    const definition = {
      name: 'gh',
      description:
        'Example: Authorization: Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789, password=Xy7!kq92LmZ',
    };
    const { value, leaks } = redact(definition);
    assert.deepEqual(value, definition);
    assert.deepEqual(leaks, []);
  });

  it('a definition that carried a secret is malicious, whatever the injection scan said', () => {
    const clean: DefinitionReport = { verdict: 'clean', score: 0, findings: [] };
    assert.equal(flagLeaks(clean, []), clean);
    const flagged = flagLeaks(clean, [{ rule: 'known-secret', path: '$.description' }]);
    assert.equal(flagged.verdict, 'malicious');
    assert.deepEqual(
      flagged.findings.map((f) => [f.rule, f.path]),
      [['known-secret', '$.description']],
    );
  });
});
