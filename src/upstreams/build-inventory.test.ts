import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approveItems, emptyLockfile, promptKey, templateKey, type ObservedFile } from '../pins/index.js';
import { buildInventory } from './build-inventory.js';
import { upstreamsConfigSchema } from './config.js';

const clean = { verdict: 'clean' as const, score: 0, findings: [] };

describe('the upstream inventory', () => {
  it('lists prompts and resource templates apart from tools, served as the namespace says, with pin state', () => {
    const configs = upstreamsConfigSchema.parse([
      { name: 'files', stdio: { command: 'x' }, resources: { 'file:///hr/*': { scope: 'files:hr' } } },
      { name: 'conf', namespace: '', stdio: { command: 'x' } },
    ]);
    const item = (definition: unknown, hash: string) => ({ hash, definition, scan: clean });
    const seen = (items: Record<string, ReturnType<typeof item>>) => ({
      observedAt: '2026-01-01T00:00:00Z',
      transport: 'stdio' as const,
      target: 'x',
      server: {},
      items,
      malformed: [],
    });
    const observed: ObservedFile = {
      observedVersion: 1,
      upstreams: {
        files: seen({
          read: item({ name: 'read', inputSchema: { type: 'object' } }, 'h1'),
          [promptKey('summarise')]: item({ name: 'summarise' }, 'h2'),
          [templateKey('file:///hr/{name}')]: item({ uriTemplate: 'file:///hr/{name}', name: 'hr' }, 'h3'),
        }),
        conf: seen({ [promptKey('test_prompt')]: item({ name: 'test_prompt' }, 'h4') }),
      },
    };
    const lock = approveItems(
      emptyLockfile(),
      'files',
      observed.upstreams.files!.items,
      [promptKey('summarise')],
      new Date(),
    );
    const [files, conf] = buildInventory(configs, lock, observed);
    assert.deepEqual(
      files!.tools.map((t) => t.name),
      ['read'],
    );
    assert.deepEqual(
      files!.prompts.map((p) => [p.servedAs, p.scope, p.pin]),
      [['files__summarise', 'files:prompts', 'approved']],
    );
    assert.deepEqual(
      files!.resourceTemplates.map((t) => [t.servedAs, t.scope, t.labels, t.pin]),
      [['portcullis://files/file:///hr/{name}', 'files:hr', ['untrusted-source'], 'pending']],
    );
    assert.equal(conf!.prompts[0]!.servedAs, 'test_prompt');
  });
});
