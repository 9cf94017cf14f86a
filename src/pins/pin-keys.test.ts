import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INSTRUCTIONS_KEY, parsePinKey, promptKey, templateKey } from './index.js';

describe('pin keys', () => {
  it('keep tools, prompts, templates and instructions apart, and give back each item’s own name', () => {
    assert.deepEqual(parsePinKey('read_file'), { kind: 'tool', name: 'read_file' });
    assert.deepEqual(parsePinKey(promptKey('summarise')), { kind: 'prompt', name: 'summarise' });
    assert.deepEqual(parsePinKey(templateKey('file:///{path}')), {
      kind: 'resource-template',
      name: 'file:///{path}',
    });
    assert.deepEqual(parsePinKey(INSTRUCTIONS_KEY), { kind: 'instructions', name: INSTRUCTIONS_KEY });
    // A prompt and a tool of the same name are two items.
    assert.notEqual(promptKey('search'), 'search');
  });
});
