import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildBwrapArgs, type SandboxPolicy } from './build-bwrap-args.js';
import { packageRootOf } from './resolve-executable.js';

const policy: SandboxPolicy = {
  network: false,
  readable: ['/opt/servers'],
  writable: ['/srv/data'],
  hidden: ['/opt/servers/data-dir'],
  memoryMb: 512,
  cpuSeconds: 60,
  openFiles: 128,
};
const build = (p: Partial<SandboxPolicy> = {}, userNamespace = true) =>
  buildBwrapArgs({
    executable: '/usr/bin/node',
    args: ['/opt/servers/x.js', '--flag'],
    env: { PATH: '/usr/bin', SECRET: 'value' },
    cwd: undefined,
    policy: { ...policy, ...p },
    userNamespace,
    prlimit: '/usr/bin/prlimit',
    system: ['--ro-bind', '/usr', '/usr'],
  });
const indexOfPair = (args: string[], flag: string, value: string) =>
  args.findIndex((a, i) => a === flag && args[i + 1] === value);

describe('the bubblewrap command line', () => {
  it('unshares every namespace, keeps no network, drops capabilities and dies with the gateway', () => {
    const args = build();
    for (const flag of ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv'])
      assert.ok(args.includes(flag), flag);
    assert.ok(!args.includes('--share-net'));
    assert.ok(indexOfPair(args, '--cap-drop', 'ALL') >= 0);
    assert.ok(indexOfPair(args, '--uid', '65534') >= 0);
    assert.ok(indexOfPair(args, '--tmpfs', '/tmp') >= 0);
  });

  it('shares the network only on request, and runs as the caller without a user namespace', () => {
    assert.ok(build({ network: true }).includes('--share-net'));
    const noUser = build({}, false);
    assert.ok(!noUser.includes('--unshare-user') && !noUser.includes('--uid'));
  });

  it('sets exactly the given environment', () => {
    const args = build();
    assert.ok(indexOfPair(args, '--setenv', 'SECRET') >= 0);
    assert.equal(args.filter((a) => a === '--setenv').length, 2);
  });

  it('binds readable paths read-only, writable ones after them, and hides the data dir last', () => {
    const args = build();
    const ro = indexOfPair(args, '--ro-bind', '/opt/servers');
    const rw = indexOfPair(args, '--bind', '/srv/data');
    const hidden = indexOfPair(args, '--tmpfs', '/opt/servers/data-dir');
    assert.ok(ro >= 0 && rw > ro && hidden > rw);
  });

  it('ends with prlimit applying the limits, then the server with its arguments untouched', () => {
    const args = build();
    const tail = args.slice(args.indexOf('--') + 1);
    assert.deepEqual(tail, [
      '/usr/bin/prlimit',
      `--as=${512 * 1024 * 1024}`,
      '--cpu=60',
      '--nofile=128',
      '--',
      '/usr/bin/node',
      '/opt/servers/x.js',
      '--flag',
    ]);
  });

  it('a file in a node_modules tree brings the whole tree (hoisted dependencies)', () => {
    assert.equal(packageRootOf('/app/node_modules/@scope/pkg/dist/index.js'), '/app/node_modules');
  });
});
