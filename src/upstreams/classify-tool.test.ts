import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyTool } from './classify-tool.js';
import type { ToolRule } from './config.js';

const rule = (r: Partial<ToolRule>): ToolRule => ({ class: 'write', labels: [], ...r });
const rules = {
  '*': rule({ class: 'write' }),
  'read_*': rule({ class: 'read', labels: ['private-data'] }),
  read_secrets: rule({ class: 'destructive' }),
  'read_*_file': rule({ class: 'read', scope: 'docs:read' }),
};

describe('classifyTool', () => {
  it('an exact name beats any pattern', () => {
    assert.equal(classifyTool('files', 'read_secrets', rules, undefined).class, 'destructive');
  });

  it('the pattern with most literal characters wins, whatever the order', () => {
    const c = classifyTool('files', 'read_text_file', rules, undefined);
    assert.deepEqual([c.class, c.scope, c.rule], ['read', 'docs:read', 'read_*_file']);
    assert.deepEqual(classifyTool('files', 'read_dir', rules, undefined).labels, ['private-data']);
    assert.equal(classifyTool('files', 'move', rules, undefined).rule, '*');
  });

  it('the default scope is <upstream>:<class>', () => {
    assert.equal(classifyTool('files', 'read_dir', rules, undefined).scope, 'files:read');
  });

  it('an unmatched tool is write + untrusted-source + external-sink', () => {
    const c = classifyTool('x', 'anything', {}, undefined);
    assert.deepEqual(
      [c.class, c.labels, c.rule, c.scope],
      ['write', ['untrusted-source', 'external-sink'], undefined, 'x:write'],
    );
  });

  it('annotations never lower a class', () => {
    const c = classifyTool('x', 'wipe', { wipe: rule({ class: 'destructive' }) }, { readOnlyHint: true });
    assert.equal(c.class, 'destructive');
  });

  it('an explicit destructiveHint raises the class and the default scope with it', () => {
    const c = classifyTool('files', 'read_dir', rules, { destructiveHint: true });
    assert.deepEqual([c.class, c.scope, c.raisedByAnnotation], ['destructive', 'files:destructive', true]);
    assert.equal(
      classifyTool('f', 'read_x', rules, { destructiveHint: true, readOnlyHint: true }).class,
      'read',
    );
  });

  it('pattern characters other than * are literal', () => {
    assert.equal(
      classifyTool('x', 'readXfile', { 'read.file': rule({ class: 'read' }) }, undefined).rule,
      undefined,
    );
  });
});
