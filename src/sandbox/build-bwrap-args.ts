import fs from 'node:fs';
import path from 'node:path';

/** Limits and visibility for one sandboxed process. */
export interface SandboxPolicy {
  readonly network: boolean;
  /** Absolute paths bound read-only (automatic ones and declared ones). */
  readonly readable: readonly string[];
  /** Absolute paths bound read-write. */
  readonly writable: readonly string[];
  /** Absolute paths covered by an empty tmpfs even if a bind above exposes them (the data dir). */
  readonly hidden: readonly string[];
  readonly memoryMb: number;
  readonly cpuSeconds: number;
  readonly openFiles: number;
}

// The system the process may read: programs and libraries under /usr (and the top-level
// directories that are, on merged-/usr systems, symlinks into it), and from /etc only what name
// resolution, TLS and the C library need — never all of /etc (shadow, ssh host keys, the
// gateway's own config if it lives there).
const TOP_LEVEL = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const ETC = [
  'alternatives',
  'ca-certificates',
  'ca-certificates.conf',
  'gai.conf',
  'group',
  'host.conf',
  'hosts',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'passwd',
  'pki',
  'resolv.conf',
  'ssl',
  'timezone',
];

/** bwrap arguments that expose the read-only system (reads the filesystem to find symlinks). */
export function systemBindArgs(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const dir of TOP_LEVEL) {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(dir);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(dir), dir);
    else if (stat.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  for (const name of ETC) args.push('--ro-bind-try', path.join('/etc', name), path.join('/etc', name));
  return args;
}

/**
 * The whole bwrap command line for one process. New user (when the kernel allows), pid, ipc,
 * uts, cgroup and network namespaces; the network namespace is shared back only on request.
 * No capabilities, no new privileges (bwrap always sets PR_SET_NO_NEW_PRIVS), a new session
 * (no TIOCSTI into the gateway's terminal), death with the gateway, a private /tmp, and an
 * environment made only of `env`. Resource limits are applied by prlimit inside, just before
 * the server's own executable.
 */
export function buildBwrapArgs(input: {
  readonly executable: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  readonly policy: SandboxPolicy;
  readonly userNamespace: boolean;
  readonly prlimit: string;
  readonly system: readonly string[];
}): string[] {
  const { policy } = input;
  const out = ['--unshare-all'];
  if (input.userNamespace) out.push('--unshare-user', '--uid', '65534', '--gid', '65534');
  if (policy.network) out.push('--share-net');
  out.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--clearenv');
  for (const [name, value] of Object.entries(input.env)) out.push('--setenv', name, value);
  out.push(...input.system, '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  for (const p of policy.readable) out.push('--ro-bind', p, p);
  for (const p of policy.writable) out.push('--bind', p, p);
  for (const p of policy.hidden) out.push('--tmpfs', p);
  out.push('--chdir', input.cwd ?? '/tmp');
  out.push(
    '--',
    input.prlimit,
    `--as=${policy.memoryMb * 1024 * 1024}`,
    `--cpu=${policy.cpuSeconds}`,
    `--nofile=${policy.openFiles}`,
    '--',
    input.executable,
    ...input.args,
  );
  return out;
}
