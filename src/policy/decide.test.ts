import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ToolLabel } from '../tools/index.js';
import { policyConfigSchema } from './config.js';
import { compilePolicy, decide, type DecisionInput, type PolicyTool } from './decide.js';

const now = new Date('2026-11-21T00:00:00Z');
const defaults = compilePolicy(policyConfigSchema.parse({}));
const custom = compilePolicy(
  policyConfigSchema.parse({
    roles: { editor: ['memory:read', 'memory:write'] },
    scopes: { 'ops:files': ['files__*'] },
    tools: {
      'files__*': { class: 'read' },
      files__delete_file: { class: 'destructive', approval: 'out-of-band' },
      'mail__*': { labels: ['external-sink'] },
      mail__draft: { labels: ['external-sink'], confirm: false },
      mail__send_digest: { labels: ['external-sink'], approval: 'in-band' },
      memory_get: { confirm: true },
      notes__archive: { confirm: true, approval: 'in-band' },
      memory_delete: { confirm: false },
    },
    flows: [
      {
        name: 'lethal-trifecta',
        after: ['private-data', 'untrusted-source'],
        sink: 'external-sink',
        effect: 'deny',
        allow: ['mail__to_self'],
      },
      { name: 'untrusted-to-sink', after: ['untrusted-source'], sink: 'external-sink', effect: 'confirm' },
    ],
  }),
);

const tool = (name: string, over: Partial<PolicyTool> = {}): PolicyTool => ({
  name,
  scope: 'memory:read',
  class: 'read',
  labels: [],
  ...over,
});
const sink = (name = 'mail__send') =>
  tool(name, { scope: 'mail:write', class: 'write', labels: ['external-sink'], upstream: 'mail' });

type Row = [
  what: string,
  input: Partial<DecisionInput> & Pick<DecisionInput, 'tool'>,
  effect: string,
  reasons: string[],
  approval?: string,
];
const taint = (...labels: ToolLabel[]) => new Set(labels);

const table: Row[] = [
  // scopes
  [
    'scope held → allow',
    { scopes: new Set(['memory:read']), tool: tool('memory_get') },
    'allow',
    ['scope-granted'],
  ],
  [
    'scope missing → deny',
    {
      scopes: new Set(['memory:read']),
      tool: tool('memory_save', { scope: 'memory:write', class: 'write' }),
    },
    'deny',
    ['scope-missing'],
  ],
  ['no scopes → deny', { scopes: new Set(), tool: tool('memory_get') }, 'deny', ['scope-missing']],
  [
    'a scope prefix is not the scope',
    { scopes: new Set(['memory']), tool: tool('memory_get') },
    'deny',
    ['scope-missing'],
  ],
  [
    'a role expands to its scopes',
    { policy: custom, scopes: new Set(['role:editor']), tool: tool('memory_search') },
    'allow',
    ['scope-granted'],
  ],
  [
    'an unknown role grants nothing',
    { policy: custom, scopes: new Set(['role:superuser']), tool: tool('memory_search') },
    'deny',
    ['scope-missing'],
  ],
  [
    'a built-in role reaches upstream scopes by glob',
    { policy: custom, scopes: new Set(['role:member']), tool: sink() },
    'allow',
    ['scope-granted'],
  ],
  [
    'the member glob does not reach an upstream destructive scope',
    {
      policy: custom,
      scopes: new Set(['role:member']),
      tool: tool('files__delete_file', { scope: 'files:destructive', class: 'destructive' }),
    },
    'deny',
    ['scope-missing'],
  ],
  [
    'a policy scope grant reaches tools by glob',
    {
      policy: custom,
      scopes: new Set(['ops:files']),
      tool: tool('files__read_text_file', { scope: 'files:write' }),
    },
    'allow',
    ['scope-granted'],
  ],
  // pin state
  [
    'a pending upstream definition is denied before anything else',
    { scopes: new Set(['memory:read']), tool: tool('x__y'), pinState: 'pending' },
    'deny',
    ['pin-not-approved'],
  ],
  [
    'a changed upstream definition is denied',
    { scopes: new Set(['memory:read']), tool: tool('x__y'), pinState: 'changed' },
    'deny',
    ['pin-not-approved'],
  ],
  // confirmation
  [
    'destructive with scope → confirm, out of band by default',
    {
      scopes: new Set(['memory:delete']),
      tool: tool('memory_delete', { scope: 'memory:delete', class: 'destructive' }),
    },
    'confirm',
    ['scope-granted', 'confirmation-required'],
    'out-of-band',
  ],
  [
    'destructive without scope → deny, not confirm',
    {
      scopes: new Set(['memory:read']),
      tool: tool('memory_delete', { scope: 'memory:delete', class: 'destructive' }),
    },
    'deny',
    ['scope-missing'],
  ],
  [
    'write needs no confirmation by default',
    {
      scopes: new Set(['memory:write']),
      tool: tool('memory_save', { scope: 'memory:write', class: 'write' }),
    },
    'allow',
    ['scope-granted'],
  ],
  [
    'a tool rule can require confirmation of a read tool',
    { policy: custom, scopes: new Set(['memory:read']), tool: tool('memory_get') },
    'confirm',
    ['scope-granted', 'confirmation-required'],
    'out-of-band',
  ],
  [
    'a tool rule can waive confirmation of a destructive tool',
    {
      policy: custom,
      scopes: new Set(['memory:delete']),
      tool: tool('memory_delete', { scope: 'memory:delete', class: 'destructive' }),
    },
    'allow',
    ['scope-granted'],
  ],
  [
    'the exact name outranks a glob: class raised to destructive, approval out-of-band',
    {
      policy: custom,
      scopes: new Set(['files:write']),
      tool: tool('files__delete_file', { scope: 'files:write', class: 'write' }),
    },
    'confirm',
    ['scope-granted', 'confirmation-required'],
    'out-of-band',
  ],
  [
    'a glob rule lowers an upstream class (files__* read): no confirmation',
    {
      policy: custom,
      scopes: new Set(['files:write']),
      tool: tool('files__move_file', { scope: 'files:write', class: 'destructive' }),
    },
    'allow',
    ['scope-granted'],
  ],
  // taint
  [
    'a clean context reaches an external sink',
    { scopes: new Set(['mail:write']), tool: sink() },
    'allow',
    ['scope-granted'],
  ],
  [
    'private data alone does not guard a sink',
    { scopes: new Set(['mail:write']), tool: sink(), taint: taint('private-data') },
    'allow',
    ['scope-granted'],
  ],
  [
    'after untrusted content an external sink needs confirmation',
    { scopes: new Set(['mail:write']), tool: sink(), taint: taint('untrusted-source') },
    'confirm',
    ['scope-granted', 'taint-untrusted-to-sink'],
    'out-of-band',
  ],
  [
    'private data + untrusted content + external sink → deny (lethal trifecta)',
    { scopes: new Set(['mail:write']), tool: sink(), taint: taint('private-data', 'untrusted-source') },
    'deny',
    ['scope-granted', 'taint-lethal-trifecta', 'taint-untrusted-to-sink'],
  ],
  [
    'the trifecta denial beats a destructive confirmation',
    {
      scopes: new Set(['mail:write']),
      tool: sink('mail__purge'),
      taint: taint('private-data', 'untrusted-source'),
    },
    'deny',
    ['scope-granted', 'taint-lethal-trifecta', 'taint-untrusted-to-sink'],
  ],
  [
    'a tool without the sink label is not guarded by taint',
    {
      scopes: new Set(['memory:read']),
      tool: tool('memory_get'),
      taint: taint('private-data', 'untrusted-source'),
    },
    'allow',
    ['scope-granted'],
  ],
  [
    'a label added by a tool rule makes a tool a sink',
    {
      policy: custom,
      scopes: new Set(['mail:write']),
      tool: tool('mail__forward', { scope: 'mail:write', class: 'write' }),
      taint: taint('untrusted-source'),
    },
    'confirm',
    ['scope-granted', 'taint-untrusted-to-sink'],
    'out-of-band',
  ],
  [
    'an explicit allow lets one sink past the trifecta, but untrusted-to-sink still confirms',
    {
      policy: custom,
      scopes: new Set(['mail:write']),
      tool: sink('mail__to_self'),
      taint: taint('private-data', 'untrusted-source'),
    },
    'confirm',
    ['scope-granted', 'policy-allow-rule', 'taint-untrusted-to-sink'],
    'out-of-band',
  ],
  [
    'confirm: false on a tool does not waive a taint confirmation',
    {
      policy: custom,
      scopes: new Set(['mail:write']),
      tool: sink('mail__draft'),
      taint: taint('untrusted-source'),
    },
    'confirm',
    ['scope-granted', 'taint-untrusted-to-sink'],
    'out-of-band',
  ],
  [
    'a tool the operator opted in is confirmed in-band for a person',
    { policy: custom, scopes: new Set(['memory:read']), tool: tool('notes__archive') },
    'confirm',
    ['scope-granted', 'confirmation-required'],
    'in-band',
  ],
  [
    'an opted-in tool is still confirmed out of band for a client-credentials caller',
    { policy: custom, scopes: new Set(['memory:read']), tool: tool('notes__archive'), actsFor: 'client' },
    'confirm',
    ['scope-granted', 'confirmation-required'],
    'out-of-band',
  ],
  [
    'an opted-in sink asks a person in-band after untrusted content',
    {
      policy: custom,
      scopes: new Set(['mail:write']),
      tool: sink('mail__send_digest'),
      taint: taint('untrusted-source'),
    },
    'confirm',
    ['scope-granted', 'taint-untrusted-to-sink'],
    'in-band',
  ],
  [
    'scope is checked before taint: no scope, no taint reason',
    { scopes: new Set(), tool: sink(), taint: taint('private-data', 'untrusted-source') },
    'deny',
    ['scope-missing'],
  ],
];

describe('decide', () => {
  for (const [what, partial, effect, reasons, approval] of table) {
    it(what, () => {
      const input: DecisionInput = {
        policy: defaults,
        scopes: new Set(),
        taint: new Set(),
        pinState: 'built-in',
        actsFor: 'person',
        now,
        ...partial,
      };
      const d = decide(input);
      assert.equal(d.effect, effect);
      assert.deepEqual(d.reasons, reasons);
      assert.equal(d.obligations.approval, approval);
      // Pure: the same input decides the same way.
      assert.deepEqual(decide(input), d);
    });
  }

  it('a scope denial names the scope the tool needs; other denials name none', () => {
    const base = {
      policy: defaults,
      taint: new Set<ToolLabel>(),
      pinState: 'built-in' as const,
      actsFor: 'person' as const,
      now,
    };
    assert.equal(
      decide({ ...base, scopes: new Set(), tool: tool('memory_save', { scope: 'memory:write' }) }).obligations
        .requiredScope,
      'memory:write',
    );
    const trifecta = decide({
      ...base,
      scopes: new Set(['mail:write']),
      tool: sink(),
      taint: taint('private-data', 'untrusted-source'),
    });
    assert.equal(trifecta.obligations.requiredScope, undefined);
    assert.deepEqual(trifecta.matched.flows, ['lethal-trifecta', 'untrusted-to-sink']);
  });

  it('reports the classification after overrides and the tool rule that applied', () => {
    const d = decide({
      policy: custom,
      scopes: new Set(['files:write']),
      tool: tool('files__delete_file', {
        scope: 'files:write',
        class: 'write',
        labels: ['untrusted-source'],
      }),
      taint: new Set(),
      pinState: 'approved',
      actsFor: 'person',
      now,
    });
    assert.deepEqual(d.classification, { class: 'destructive', labels: ['untrusted-source'] });
    assert.equal(d.matched.toolRule, 'files__delete_file');
  });
});

describe('the policy configuration', () => {
  it('ships the two default flow rules', () => {
    assert.deepEqual(
      policyConfigSchema.parse({}).flows.map((f) => [f.name, f.effect]),
      [
        ['lethal-trifecta', 'deny'],
        ['untrusted-to-sink', 'confirm'],
      ],
    );
  });

  it('names the path of every error', () => {
    const r = policyConfigSchema.safeParse({
      tools: { memory_delete: { class: 'nuclear' } },
      flows: [
        { name: 'Bad Name', after: ['untrusted-source'], sink: 'external-sink', effect: 'deny' },
        { name: 'x', after: [], sink: 'external-sink', effect: 'deny' },
      ],
      roles: { ops: ['role:admin'] },
    });
    assert.equal(r.success, false);
    const paths = (r.error?.issues ?? []).map((i) => i.path.join('.'));
    assert.ok(paths.includes('tools.memory_delete.class'), paths.join());
    assert.ok(paths.includes('flows.0.name'), paths.join());
    assert.ok(paths.includes('flows.1.after'), paths.join());
  });

  it('refuses duplicate flow rule names and roles inside roles', () => {
    const rule = { name: 'a', after: ['untrusted-source'], sink: 'external-sink', effect: 'deny' };
    const r = policyConfigSchema.safeParse({ flows: [rule, rule], roles: { ops: ['role:admin'] } });
    assert.equal(r.success, false);
    const paths = (r.error?.issues ?? []).map((i) => i.path.join('.'));
    assert.deepEqual(paths.sort(), ['flows.1.name', 'roles.ops.0']);
  });
});
