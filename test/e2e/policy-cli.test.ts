import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';

/** `portcullis policy check` and `portcullis policy explain`, run as the operator runs them. */
describe('portcullis policy', () => {
  let dir: string;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dir]);
  before(async () => {
    dir = tempDir();
    assert.equal((await cli('init')).code, 0);
    const key = await cli(
      'keys',
      'create',
      '--owner',
      'alice',
      '--scopes',
      'memory:read,memory:delete,mail:write',
    );
    assert.equal(key.code, 0, key.stderr);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const withPolicy = (yaml: string) => fs.appendFileSync(path.join(dir, 'portcullis.yaml'), yaml);

  it('the shipped default policy passes its own lint', async () => {
    const r = await cli('policy', 'check');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Policy OK: 5 tools checked/);
  });

  it('explain shows that a destructive call needs scope and confirmation, and why', async () => {
    const r = await cli(
      'policy',
      'explain',
      '--principal',
      'alice',
      '--tool',
      'memory_delete',
      '--args',
      '{"id":"note_aaaaaaaaaaaaaaaaaaaaaa"}',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Decision +CONFIRM$/m);
    assert.match(r.stdout, /^Reasons +scope-granted, confirmation-required$/m);
    assert.match(r.stdout, /^Principal +alice: mail:write memory:delete memory:read \(from API key /m);
    assert.match(r.stdout, /^Arguments +sha256 [A-Za-z0-9_-]{43} /m);
    assert.match(r.stdout, /^ +valid$/m);
    assert.match(r.stdout, /^Confirmation +out-of-band: the approval page/m);
  });

  it('check warns about a destructive tool the client may confirm in-band', async () => {
    const own = tempDir();
    try {
      assert.equal((await runCli(['init', '--data-dir', own])).code, 0);
      fs.appendFileSync(
        path.join(own, 'portcullis.yaml'),
        'policy:\n  tools:\n    memory_delete: { approval: in-band }\n',
      );
      const r = await runCli(['policy', 'check', '--data-dir', own]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /warning +destructive-confirmed-in-band +policy.tools.memory_delete: memory_delete is destructive and confirmed in-band/,
      );
    } finally {
      fs.rmSync(own, { recursive: true, force: true });
    }
  });

  it('explain caps the keys of a person to the person’s role, as authentication does', async () => {
    assert.equal(
      (await cli('keys', 'create', '--owner', 'bob', '--scopes', 'memory:read,files:destructive')).code,
      0,
    );
    const added = await runCli(
      ['users', 'add', 'bob', '--role', 'member', '--password-stdin', '--data-dir', dir],
      {
        input: 'bob password long enough',
      },
    );
    assert.equal(added.code, 0, added.stderr);
    const r = await cli('policy', 'explain', '--principal', 'bob', '--tool', 'memory_search');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Principal +bob: memory:read \(from API key \w+; capped by bob’s role member\)$/m,
    );
  });

  it('explain names the scope a refusal asks for, and the taint rule that decides', async () => {
    const denied = await cli('policy', 'explain', '--principal', 'alice', '--tool', 'memory_save');
    assert.match(denied.stdout, /^Decision +DENY$/m);
    assert.match(denied.stdout, /^Refusal +403 insufficient_scope, scope="memory:write"$/m);

    withPolicy('policy:\n  tools:\n    memory_save: { labels: [external-sink] }\n');
    const sink = await cli(
      'policy',
      'explain',
      '--principal',
      'alice',
      '--tool',
      'memory_save',
      '--scopes',
      'memory:write',
      '--seen',
      'private-data,untrusted-source',
    );
    assert.equal(sink.code, 0, sink.stderr);
    assert.match(sink.stdout, /^Decision +DENY$/m);
    assert.match(sink.stdout, /^Reasons +scope-granted, taint-lethal-trifecta, taint-untrusted-to-sink$/m);
    assert.match(sink.stdout, /^Tool rule +policy.tools.memory_save$/m);
  });

  it('check finds unknown tools, unreachable rules and destructive tools without confirmation', async () => {
    withPolicy(
      [
        '  scopes:',
        '    ops: [nothing_here]',
        '  flows:',
        '    - { name: block-sinks, after: [untrusted-source], sink: external-sink, effect: deny }',
        '    - { name: confirm-sinks, after: [untrusted-source, private-data], sink: external-sink, effect: confirm }',
        '  confirm:',
        '    classes: []',
        '',
      ].join('\n'),
    );
    const r = await cli('policy', 'check');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /warning +unknown-tool +policy.scopes.ops: nothing_here matches no known tool/);
    assert.match(r.stdout, /warning +unreachable-rule +policy.flows\[1\]: confirm-sinks never decides/);
    assert.match(r.stdout, /error +destructive-without-confirmation +policy.confirm.classes: memory_delete/);
    assert.match(r.stderr, /the policy has 1 error/);
  });

  it('an invalid policy is refused with the path of the error', async () => {
    withPolicy('  taint:\n    windowSeconds: 0\n');
    const r = await cli('policy', 'check');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /policy\.taint\.windowSeconds/);
  });
});
