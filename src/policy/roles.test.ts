import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { policyConfigSchema } from './config.js';
import { compilePolicy } from './decide.js';
import { capScopes, NO_SCOPES } from './roles.js';

const roles = (configured: Record<string, string[]> = {}) =>
  compilePolicy(policyConfigSchema.parse({ roles: configured })).roles;

describe('roles as scope ceilings', () => {
  it('has admin and member built in: member gets the built-in tools and upstream read/write only', () => {
    const member = roles().get('member')!;
    for (const s of ['memory:read', 'memory:write', 'memory:delete', 'web:fetch', 'files:read', 'mail:write'])
      assert.ok(member.allows(s), s);
    for (const s of ['files:destructive', 'admin:audit', 'ops:files'])
      assert.equal(member.allows(s), false, s);
    const admin = roles().get('admin')!;
    for (const s of ['files:destructive', 'admin:audit', 'anything']) assert.ok(admin.allows(s), s);
  });

  it('reaches admin scopes by glob only through `*` alone or an `admin:` entry', () => {
    const r = roles({ auditor: ['*:read', 'admin:*'], reader: ['*:read', '*audit'] });
    // An upstream named `admin` would publish `admin:read`; `*:read` still does not reach it.
    assert.equal(r.get('reader')!.allows('admin:read'), false);
    assert.equal(r.get('reader')!.allows('admin:audit'), false);
    assert.ok(r.get('auditor')!.allows('admin:audit'));
    assert.ok(r.get('auditor')!.allows('files:read'));
  });

  it('lets the operator redefine a built-in role and add new ones', () => {
    const r = roles({ member: ['memory:read'], ops: ['files:*'] });
    assert.equal(r.get('member')!.allows('memory:write'), false);
    assert.ok(r.get('ops')!.allows('files:destructive'));
    assert.ok(r.get('admin')!.allows('files:destructive'), 'admin stays unless redefined');
  });

  it('caps a credential to the ceiling, expanding role bundles that reach beyond it', () => {
    const r = roles({ editor: ['memory:read', 'memory:write'], wide: ['memory:read', 'files:*'] });
    const member = r.get('member')!;
    assert.deepEqual(
      [...capScopes(r, ['memory:read', 'files:destructive', 'admin:audit'], member)],
      ['memory:read'],
    );
    assert.deepEqual([...capScopes(r, ['role:editor'], member)], ['role:editor'], 'wholly inside: kept');
    assert.deepEqual(
      [...capScopes(r, ['role:admin'], member)],
      [],
      'a bare glob beyond the ceiling: dropped',
    );
    assert.deepEqual(
      [...capScopes(r, ['role:wide'], member)],
      ['memory:read'],
      'only its plain entries inside',
    );
    assert.deepEqual([...capScopes(r, ['role:member'], r.get('admin')!)], ['role:member']);
    assert.deepEqual([...capScopes(r, ['role:nosuch', 'memory:read'], member)], ['memory:read']);
    assert.deepEqual([...capScopes(r, ['memory:read'], NO_SCOPES)], [], 'no role: nothing');
  });

  it('refuses role entries that are not scope names or globs', () => {
    assert.throws(() => policyConfigSchema.parse({ roles: { x: ['memory read'] } }), /scope name or glob/);
    assert.throws(
      () => policyConfigSchema.parse({ roles: { x: ['role:member'] } }),
      /roles cannot contain roles/,
    );
  });
});
