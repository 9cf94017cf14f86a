import { spawnSync } from 'node:child_process';
import { systemBindArgs } from './build-bwrap-args.js';
import { resolveExecutable } from './resolve-executable.js';

/** What isolation this machine can give a stdio server; `portcullis doctor` prints it. */
export interface SandboxProbe {
  readonly platform: NodeJS.Platform;
  /** Path of bwrap, if installed. */
  readonly bwrap: string | undefined;
  readonly bwrapVersion: string | undefined;
  /** bwrap runs a process in new mount, pid, ipc, uts and network namespaces. */
  readonly namespaces: boolean;
  /** …and in a new user namespace, as an unprivileged uid (otherwise as the caller's uid). */
  readonly userNamespace: boolean;
  /** Path of prlimit (util-linux), which applies the resource limits. */
  readonly prlimit: string | undefined;
  /** Whether a stdio upstream with a sandbox can be started here. */
  readonly available: boolean;
  /** Why not, when it cannot. */
  readonly problem: string | undefined;
}

const SEARCH_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function runs(bwrap: string, extra: readonly string[]): { ok: boolean; stderr: string } {
  const r = spawnSync(
    bwrap,
    [
      '--unshare-all',
      ...extra,
      '--die-with-parent',
      ...systemBindArgs(),
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--',
      '/usr/bin/true',
    ],
    { env: {}, encoding: 'utf8', timeout: 10_000 },
  );
  return { ok: r.status === 0, stderr: (r.stderr ?? '').trim() };
}

let cached: SandboxProbe | undefined;

/**
 * Finds out, by trying, what bubblewrap can do here: containers and hardened kernels often
 * forbid unprivileged user namespaces, and a root caller may still create the others. Cached
 * for the process; the answer does not change while it runs.
 */
export function probeSandbox(options: { fresh?: boolean } = {}): SandboxProbe {
  if (cached && !options.fresh) return cached;
  const platform = process.platform;
  const bwrap = platform === 'linux' ? resolveExecutable('bwrap', SEARCH_PATH) : undefined;
  const prlimit = platform === 'linux' ? resolveExecutable('prlimit', SEARCH_PATH) : undefined;
  let bwrapVersion: string | undefined;
  let namespaces = false;
  let userNamespace = false;
  let problem: string | undefined;
  if (platform !== 'linux') {
    problem = `the sandbox needs Linux with bubblewrap; this is ${platform}`;
  } else if (!bwrap) {
    problem = 'bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)';
  } else {
    bwrapVersion = spawnSync(bwrap, ['--version'], { encoding: 'utf8', env: {} }).stdout?.trim();
    const withUser = runs(bwrap, ['--unshare-user', '--uid', '65534', '--gid', '65534']);
    if (withUser.ok) {
      namespaces = userNamespace = true;
    } else {
      const withoutUser = runs(bwrap, []);
      namespaces = withoutUser.ok;
      if (!namespaces)
        problem = `bwrap cannot create namespaces here: ${withoutUser.stderr || withUser.stderr}`;
    }
    if (namespaces && !prlimit) problem = 'prlimit (util-linux) is not installed, so no resource limits';
  }
  cached = {
    platform,
    bwrap,
    bwrapVersion,
    namespaces,
    userNamespace,
    prlimit,
    available: namespaces && prlimit !== undefined,
    problem,
  };
  return cached;
}
