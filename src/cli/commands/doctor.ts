import fs from 'node:fs';
import type { Command } from 'commander';
import { checkInsecureSettings, configSchema, loadConfig, type ConfigProblem } from '../../config/index.js';
import { dataDirLayout } from '../../data-dir/index.js';
import { probeSandbox, type SandboxProbe } from '../../sandbox/index.js';
import { CommandFailed } from '../command-failed.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printJson, printOut } from '../print.js';

export interface DoctorReport {
  readonly node: string;
  /** What `start` would refuse (fatal) or warn about in this configuration. */
  readonly config: readonly ConfigProblem[];
  readonly sandbox: SandboxProbe;
  /** Stdio upstreams of the configuration that will be refused here, and those run unconfined. */
  readonly refused: readonly string[];
  readonly unsandboxed: readonly string[];
}

const yes = (ok: boolean, detail: string) => (ok ? `yes — ${detail}` : 'no');

function renderDoctor(r: DoctorReport): string {
  const s = r.sandbox;
  const lines = [
    `Node.js           ${r.node}`,
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
  if (r.config.length) {
    lines.push('', 'Configuration');
    for (const p of r.config) lines.push(`  ${p.severity === 'fatal' ? 'REFUSED' : 'WARNING'}: ${p.message}`);
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  withDataDir(
    program
      .command('doctor')
      .description(
        'Report what this machine provides for sandboxing stdio upstream servers (bubblewrap, ' +
          'namespaces, resource limits) and which configured upstreams it affects, and what `start` ' +
          'would warn about or refuse in the configuration. Exit 1 if a configured upstream or the ' +
          'configuration would be refused.',
      )
      .option('--json', 'one JSON document'),
  ).action((opts: { dataDir?: string; json?: boolean }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const configFile = dataDirLayout(dataDir).config;
    const config = fs.existsSync(configFile) ? loadConfig({ file: configFile }) : configSchema.parse({});
    const sandbox = probeSandbox();
    const stdio = config.upstreams.filter((u) => u.stdio);
    const report: DoctorReport = {
      node: process.version,
      config: checkInsecureSettings(config),
      sandbox,
      refused: sandbox.available ? [] : stdio.filter((u) => u.sandbox !== 'off').map((u) => u.name),
      unsandboxed: stdio.filter((u) => u.sandbox === 'off').map((u) => u.name),
    };
    if (opts.json) printJson(report, 2);
    else printOut(renderDoctor(report));
    if (report.refused.length || report.config.some((p) => p.severity === 'fatal')) {
      throw new CommandFailed('part of this configuration would be refused here (see above)');
    }
  });
}
