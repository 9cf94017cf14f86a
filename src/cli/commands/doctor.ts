import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  checkInsecureSettings,
  configSchema,
  loadConfig,
  type Config,
  type ConfigProblem,
} from '../../config/index.js';
import { signingKeyFileProblem } from '../../oauth/index.js';
import { dataDirLayout } from '../../data-dir/index.js';
import { runningAsRoot } from '../../gateway/index.js';
import { probeSandbox, type SandboxProbe } from '../../sandbox/index.js';
import type { StorageConfig } from '../../storage/index.js';
import { asPgConfig, inspectPgRoles, type PgRoleReport } from '../../storage/index.js';
import { CommandFailed } from '../command-failed.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printJson, printOut } from '../print.js';

export interface DoctorReport {
  readonly node: string;
  /** The user doctor runs as, and the warning `start` gives when that is root. */
  readonly process: { readonly uid: number | null; readonly rootWarning: string | null };
  /** What `start` would refuse (fatal) or warn about in this configuration. */
  readonly config: readonly ConfigProblem[];
  readonly sandbox: SandboxProbe;
  /** Stdio upstreams of the configuration that will be refused here, and those run unconfined. */
  readonly refused: readonly string[];
  readonly unsandboxed: readonly string[];
  /** The database connections: which role each uses and whether the read path can write. */
  readonly storage: StorageReport;
  /** Where each gateway key comes from, and what is wrong with a key file's permissions. */
  readonly keys: readonly KeyReport[];
}

export interface KeyReport {
  readonly key: string;
  /** `file <path>` (relative to the data dir when inside it) or `reference <ref>` (never resolved). */
  readonly source: string;
  /** For a file: missing (made on first start), or why others could read or replace it. */
  readonly problem?: string;
}

export type StorageReport =
  | { readonly driver: 'memory' }
  | { readonly driver: 'sqlite'; readonly readPath: 'read-only connection' }
  | ({ readonly driver: 'postgres'; readonly schema: string } & PgRoleReport);

function renderStorage(s: StorageReport): string[] {
  const lines = ['', 'Database', `  driver          ${s.driver}`];
  if (s.driver === 'memory') return [...lines, '  (nothing is kept on exit)'];
  if (s.driver === 'sqlite')
    return [...lines, '  read path       read-only connection (SQLite opened readonly)'];
  lines.push(`  schema          ${s.schema}`);
  if ('error' in s.write) lines.push(`  write role      UNREACHABLE: ${s.write.error}`);
  else
    lines.push(
      `  write role      ${s.write.user}${s.write.superuser ? ' — SUPERUSER: start refuses it' : ' (not a superuser)'}`,
    );
  if ('error' in s.read) lines.push(`  read role       UNREACHABLE: ${s.read.error}`);
  else {
    const how = s.read.canWrite
      ? s.read.readOnlyTransactions
        ? 'read-only transactions only: the role itself may write (set storage.readUrl to a SELECT-only role)'
        : 'WRITABLE'
      : 'SELECT only';
    lines.push(
      `  read role       ${s.read.user}${s.read.superuser ? ' — SUPERUSER: start refuses it' : ''} — ${how}`,
    );
  }
  if (s.synchronousCommit && s.synchronousCommit !== 'on' && s.synchronousCommit !== 'remote_apply')
    lines.push(
      `  WARNING: synchronous_commit is ${s.synchronousCommit}: an acknowledged audit record may be lost in a crash`,
    );
  return lines;
}

const yes = (ok: boolean, detail: string) => (ok ? `yes — ${detail}` : 'no');

function renderDoctor(r: DoctorReport): string {
  const s = r.sandbox;
  const lines = [
    `Node.js           ${r.node}`,
    `User              ${r.process.uid === null ? 'unknown' : `uid ${r.process.uid}`}${r.process.rootWarning ? ` — WARNING: ${r.process.rootWarning}` : ''}`,
    '',
    'Sandbox for stdio upstream servers',
    `  platform        ${s.platform}`,
    `  bubblewrap      ${s.bwrap ? `${s.bwrap}${s.bwrapVersion ? ` (${s.bwrapVersion})` : ''}` : 'not found'}`,
    `  namespaces      ${yes(s.namespaces, 'new mount, pid, ipc, uts, cgroup and network namespaces; no network unless allowed')}`,
    `  user namespace  ${
      s.userNamespace
        ? 'yes — servers run as uid/gid 65534 with no capabilities'
        : s.namespaces
          ? "no — servers run with the gateway's uid (capabilities dropped, no new privileges)"
          : 'no'
    }`,
    `  filesystem      ${yes(s.namespaces, 'read-only /usr and a few /etc files, private /tmp, only declared paths')}`,
    `  resource limits ${s.prlimit ? `yes — ${s.prlimit} (memory, CPU time, open files)` : 'no (prlimit not found)'}`,
    `  verdict         ${s.available ? 'stdio upstreams run sandboxed' : `UNAVAILABLE: ${s.problem}`}`,
  ];
  if (r.refused.length) {
    lines.push('', `Refused here (no sandbox and not "sandbox: off"): ${r.refused.join(', ')}`);
  }
  if (r.unsandboxed.length)
    lines.push('', `WARNING: running unconfined ("sandbox: off"): ${r.unsandboxed.join(', ')}`);
  lines.push(...renderStorage(r.storage));
  lines.push('', 'Keys');
  const width = Math.max(...r.keys.map((k) => k.key.length));
  for (const k of r.keys)
    lines.push(
      `  ${k.key.padEnd(width)}  ${k.source}${
        k.problem === undefined
          ? ''
          : k.problem.startsWith('missing')
            ? ` — ${k.problem}`
            : ` — WARNING: ${k.problem}`
      }`,
    );
  if (r.config.length) {
    lines.push('', 'Configuration');
    for (const p of r.config) lines.push(`  ${p.severity === 'fatal' ? 'REFUSED' : 'WARNING'}: ${p.message}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Each key's source. A reference is named, never resolved (doctor reads no secret store); a file
 * gets the checks `start` applies to the signing key file: others must not read it, nor replace
 * it through a directory they can write.
 */
function keysReport(config: Config, dataDir: string): KeyReport[] {
  const dir = dataDirLayout(dataDir, config.keys.dir).keys;
  const shown = (file: string) => {
    const rel = path.relative(dataDir, file);
    return rel.startsWith('..') ? file : rel;
  };
  const entry = (key: string, ref: string | undefined, fileName: string): KeyReport => {
    if (ref) return { key, source: `reference ${ref}` };
    const file = path.join(dir, fileName);
    if (!fs.existsSync(file))
      return { key, source: `file ${shown(file)}`, problem: 'missing: made on first start' };
    const problem = signingKeyFileProblem(file);
    return { key, source: `file ${shown(file)}`, ...(problem ? { problem } : {}) };
  };
  return [
    entry('token signing', config.keys.tokenSigning, 'signing-keys.json'),
    entry('audit signing', config.keys.auditSigning, 'audit-ed25519.pem'),
    entry('audit args HMAC', config.keys.auditArgsHmac, 'audit-args-hmac.key'),
    entry('confirmation', config.keys.confirmation, 'confirmation-key'),
    config.oauth.cookieKeys.length
      ? { key: 'cookies', source: `reference ${config.oauth.cookieKeys.join(', ')}` }
      : entry('cookies', undefined, 'cookie-keys.json'),
    entry('connections KEK', config.connections.keyEncryptionKey, 'connections-kek'),
  ];
}

async function storageReport(storage: StorageConfig): Promise<StorageReport> {
  if (storage.driver === 'memory') return { driver: 'memory' };
  if (storage.driver === 'sqlite') return { driver: 'sqlite', readPath: 'read-only connection' };
  const pg = asPgConfig(storage);
  return { driver: 'postgres', schema: pg.schema, ...(await inspectPgRoles(pg)) };
}

export function register(program: Command): void {
  withDataDir(
    program
      .command('doctor')
      .description(
        'Report what this machine provides for sandboxing stdio upstream servers (bubblewrap, ' +
          'namespaces, resource limits) and which configured upstreams it affects, and what `start` ' +
          'would warn about or refuse in the configuration, and the database roles (superuser or not; ' +
          'whether the read path can write), and where each key comes from (file permissions checked). Exit 1 if a ' +
          'configured upstream, a database role, the signing key file or the configuration would be refused.',
      )
      .option('--json', 'one JSON document'),
  ).action(async (opts: { dataDir?: string; json?: boolean }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const configFile = dataDirLayout(dataDir).config;
    const config = fs.existsSync(configFile) ? loadConfig({ file: configFile }) : configSchema.parse({});
    const sandbox = probeSandbox();
    const stdio = config.upstreams.filter((u) => u.stdio);
    const report: DoctorReport = {
      node: process.version,
      process: { uid: process.getuid?.() ?? null, rootWarning: runningAsRoot(process.getuid?.()) ?? null },
      config: checkInsecureSettings(config),
      sandbox,
      refused: sandbox.available ? [] : stdio.filter((u) => u.sandbox !== 'off').map((u) => u.name),
      unsandboxed: stdio.filter((u) => u.sandbox === 'off').map((u) => u.name),
      storage: await storageReport(config.storage),
      keys: keysReport(config, dataDir),
    };
    if (opts.json) printJson(report, 2);
    else printOut(renderDoctor(report));
    const s = report.storage;
    const badRole =
      s.driver === 'postgres' &&
      (('error' in s.write ? false : s.write.superuser) || ('error' in s.read ? false : s.read.superuser));
    // start refuses a signing key file others could replace (signing-key-ring.ts)
    const badSigningFile = report.keys.some(
      (k) => k.key === 'token signing' && k.problem !== undefined && !k.problem.startsWith('missing'),
    );
    if (
      report.refused.length ||
      badRole ||
      badSigningFile ||
      report.config.some((p) => p.severity === 'fatal')
    ) {
      throw new CommandFailed('part of this configuration would be refused here (see above)');
    }
  });
}
