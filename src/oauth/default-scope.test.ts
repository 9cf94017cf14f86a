import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultScopeCandidates, defaultScopes } from './default-scope.js';

const tool = (scope: string, cls: 'read' | 'write' | 'destructive', over: object = {}) => ({
  scope,
  class: cls,
  labels: [] as ('private-data' | 'untrusted-source' | 'external-sink')[],
  ...over,
});

describe('the default scope of a request that names none', () => {
  it('offers the scopes of built-in read-only tools that reach nothing outside', () => {
    const tools = [
      tool('memory:read', 'read', { labels: ['private-data'] }),
      tool('memory:read', 'read'),
      tool('memory:write', 'write'),
      tool('memory:delete', 'destructive'),
      tool('web:fetch', 'read', { labels: ['untrusted-source'] }),
    ];
    assert.deepEqual(defaultScopeCandidates(tools), ['memory:read']);
  });

  it('never offers a scope an upstream tool or any writing tool also carries', () => {
    assert.deepEqual(
      defaultScopeCandidates([tool('docs:read', 'read'), tool('docs:read', 'read', { upstream: 'docs' })]),
      [],
    );
    assert.deepEqual(defaultScopeCandidates([tool('notes', 'read'), tool('notes', 'write')]), []);
    assert.deepEqual(defaultScopeCandidates([tool('x', 'read', { labels: ['external-sink'] })]), []);
  });

  it('stays within the allowed set, and is empty when nothing qualifies there', () => {
    assert.deepEqual(defaultScopes(['memory:read'], ['memory:read', 'memory:write']), ['memory:read']);
    assert.deepEqual(defaultScopes(['memory:read'], new Set(['memory:write'])), []);
    assert.deepEqual(defaultScopes([], ['memory:read']), []);
  });
});
