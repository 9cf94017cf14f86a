import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { buildBwrapArgs, systemBindArgs } from './build-bwrap-args.js';
import { SandboxError } from './errors.js';
import { probeSandbox, type SandboxProbe } from './probe-sandbox.js';
import { automaticReadablePaths, resolveExecutable } from './resolve-executable.js';

/** Declared limits and extra visibility for a sandboxed process (from the upstream's config). */
export interface SandboxRequest {
  readonly network: boolean;
  readonly readable: readonly string[];
  readonly writable: readonly string[];
  readonly memoryMb: number;
  readonly cpuSeconds: number;
  readonly openFiles: number;
}

export interface ProcessSpec {
  /** A name looked up on `env.PATH`, or an absolute path. Never a shell command line. */
  readonly command: string;
  readonly args: readonly string[];
  /** The complete environment of the process: nothing else is inherited. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** `'off'` runs the process unconfined; the caller must have warned loudly. */
  readonly sandbox: SandboxRequest | 'off';
  /** Paths never visible inside even if under a visible one (the gateway's data directory). */
  readonly hide?: readonly string[];
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The spawn itself failed (executable vanished, bwrap refused). */
  readonly error?: Error;
}

export interface ChildHandle {
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles once, when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after `graceMs` if still running. */
  kill(graceMs?: number): void;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

const within = (child: string, parent: string) =>
  child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);

/** The paths bwrap will bind, checked: declared ones must exist, so a typo fails clearly. */
function visiblePaths(spec: ProcessSpec, executable: string, sandbox: SandboxRequest) {
  for (const p of [...sandbox.readable, ...sandbox.writable, ...(spec.cwd ? [spec.cwd] : [])]) {
    if (!fs.existsSync(p)) throw new SandboxError('path-not-found', `Sandbox path ${p} does not exist.`);
  }
  const readable = [
    ...new Set([
      ...automaticReadablePaths(executable, spec.args, spec.env.PATH),
      ...sandbox.readable,
      ...(spec.cwd ? [spec.cwd] : []),
    ]),
  ];
  const hidden = (spec.hide ?? [])
    .map((p) => path.resolve(p))
    .filter((h) => fs.existsSync(h) && [...readable, ...sandbox.writable].some((v) => within(h, v)));
  return { readable, writable: [...sandbox.writable], hidden };
}

/**
 * The one way Portcullis starts a child process. With a sandbox request, the process runs under
 * bubblewrap and prlimit (see build-bwrap-args.ts) and the call fails when this machine cannot
 * provide that; it is never silently run unconfined.
 */
export function startProcess(spec: ProcessSpec, probe: SandboxProbe = probeSandbox()): ChildHandle {
  const executable = resolveExecutable(spec.command, spec.env.PATH);
  if (!executable) {
    throw new SandboxError('executable-not-found', `Executable "${spec.command}" was not found on PATH.`);
  }
  let file: string;
  let argv: string[];
  if (spec.sandbox === 'off') {
    file = executable;
    argv = [...spec.args];
  } else {
    if (!probe.available || !probe.bwrap || !probe.prlimit) {
      throw new SandboxError(
        'sandbox-unavailable',
        `No sandbox is available (${probe.problem ?? 'unknown reason'}); set "sandbox: off" to run unconfined.`,
      );
    }
    // A file argument reached through a symlink (a linked node_modules, say) is passed by its
    // real path: only the real package is bound into the sandbox, and the link's own directory
    // (often under the private /tmp) does not exist in there.
    const args = spec.args.map((a) => (path.isAbsolute(a) && isFile(a) ? fs.realpathSync(a) : a));
    const visible = visiblePaths({ ...spec, args }, executable, spec.sandbox);
    file = probe.bwrap;
    argv = buildBwrapArgs({
      executable,
      args,
      env: spec.env,
      cwd: spec.cwd,
      policy: { ...spec.sandbox, ...visible },
      userNamespace: probe.userNamespace,
      prlimit: probe.prlimit,
      system: systemBindArgs(),
    });
  }

  const child = spawn(file, argv, {
    env: spec.sandbox === 'off' ? { ...spec.env } : {},
    cwd: spec.sandbox === 'off' ? (spec.cwd ?? '/') : '/',
    stdio: ['pipe', 'pipe', 'pipe'],
    shell: false,
    windowsHide: true,
  });
  const exited = new Promise<ExitInfo>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
      // 'close' does not follow an 'error' from a failed spawn.
      if (child.pid === undefined) resolve({ code: null, signal: null, error: err });
    });
    child.once('close', (code, signal) =>
      resolve({ code, signal, ...(spawnError ? { error: spawnError } : {}) }),
    );
  });
  // A write to a process that has died raises EPIPE on stdin; the exit is reported by `exited`.
  child.stdin.on('error', () => {});

  let killed = false;
  return {
    pid: child.pid,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    kill(graceMs = 2000) {
      if (killed || child.exitCode !== null || child.signalCode !== null) return;
      killed = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      timer.unref();
      void exited.then(() => clearTimeout(timer));
    },
  };
}
