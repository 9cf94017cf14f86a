import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  exitCodeOf,
  isScanError,
  readBaseline,
  readClientConfig,
  renderHuman,
  renderSarif,
  runScan,
  SEVERITIES,
  type ClientConfig,
  type ConfiguredServer,
  type ScanReport,
  type Severity,
  type TargetSpec,
} from '../../scan/index.js';
import type { SandboxRequest } from '../../sandbox/index.js';
import { CommandFailed } from '../command-failed.js';
import { printErr, printJson, printStyled, stdoutWantsColour, text } from '../print.js';
import { UsageError } from '../usage-error.js';

interface ScanFlags {
  stdio?: boolean;
  header: string[];
  bearerEnv?: string;
  clientCredentials?: string;
  oauth?: boolean;
  secretEnv?: string;
  clientConfig?: string;
  configOnly?: boolean;
  active?: boolean;
  json?: boolean;
  sarif?: boolean;
  output?: string;
  failOn: Severity;
  baseline?: string;
  timeout: string;
  deadline: string;
  allowRead: string[];
  allowWrite: string[];
  allowNetwork?: boolean;
  env: string[];
  quiet?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `Name: value` → [name, value]; the name in lower case, as fetch sends it. */
function parseHeader(raw: string): [string, string] {
  const i = raw.indexOf(':');
  const name = i > 0 ? raw.slice(0, i).trim() : '';
  if (!/^[!#$%&'*+.^_`|~\w-]+$/.test(name))
    throw new UsageError(text`--header ${raw.slice(0, 40)}: expected "Name: value"`);
  return [name.toLowerCase(), raw.slice(i + 1).trim()];
}

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600)
    throw new UsageError(`${flag} must be a number of seconds between 0 and 3600`);
  return Math.round(n * 1000);
}

/** What every stdio server gets to run at all: a PATH, and a HOME and TMPDIR inside its private /tmp. */
function baseEnv(names: readonly string[]): Record<string, string> {
  const env: Record<string, string> = { HOME: '/tmp', TMPDIR: '/tmp' };
  for (const name of ['PATH', 'LANG', 'LC_ALL', 'TZ', ...names]) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return env;
}

/** `${env:X}` / `${X}` from this process's environment; undefined when the value cannot be resolved. */
function resolveReference(value: string): string | undefined {
  let unresolved = false;
  const out = value.replace(
    /\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}|\$\{[^}]*\}/g,
    (m, name: string | undefined) => {
      const v = name !== undefined ? process.env[name] : undefined;
      if (v === undefined) unresolved = true;
      return v ?? m;
    },
  );
  return unresolved ? undefined : out;
}

function resolved(values: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).flatMap(([k, v]) => {
      const r = resolveReference(v);
      return r === undefined ? [] : [[k, r]];
    }),
  );
}

function specOfConfigured(
  s: ConfiguredServer,
  file: string,
  flags: ScanFlags,
  sandbox: SandboxRequest,
): TargetSpec | undefined {
  const id = `${file}#${s.name}`;
  if (s.transport === 'http') {
    let url: URL;
    try {
      url = new URL(s.url);
    } catch {
      return undefined;
    }
    return {
      transport: 'http',
      url,
      headers: Object.fromEntries(Object.entries(resolved(s.headers)).map(([k, v]) => [k.toLowerCase(), v])),
      id,
    };
  }
  return {
    transport: 'stdio',
    command: s.command,
    args: s.args,
    env: { ...baseEnv(flags.env), ...resolved(s.env) },
    sandbox,
    cwd: path.dirname(path.resolve(file)),
    id,
  };
}

function targetsOf(
  flags: ScanFlags,
  operands: string[],
): { targets: TargetSpec[]; clientConfig?: ClientConfig } {
  const sandbox = {
    network: flags.allowNetwork === true,
    readable: flags.allowRead.map((p) => path.resolve(p)),
    writable: flags.allowWrite.map((p) => path.resolve(p)),
    memoryMb: 2048,
    cpuSeconds: 300,
    openFiles: 1024,
  };
  const modes = [flags.stdio, flags.clientConfig !== undefined, !flags.stdio && operands.length > 0].filter(
    Boolean,
  ).length;
  if (modes !== 1)
    throw new UsageError('give one of: a URL, --stdio -- COMMAND ARGS, or --client-config FILE');
  if (flags.clientConfig !== undefined) {
    const config = readClientConfig(flags.clientConfig);
    const targets = flags.configOnly
      ? []
      : config.servers.flatMap((s) => specOfConfigured(s, flags.clientConfig!, flags, sandbox) ?? []);
    return { targets, clientConfig: config };
  }
  if (flags.stdio) {
    const [command, ...args] = operands;
    if (command === undefined) throw new UsageError('--stdio needs the server command after --');
    return {
      targets: [{ transport: 'stdio', command, args, env: baseEnv(flags.env), sandbox, cwd: process.cwd() }],
    };
  }
  if (operands.length !== 1) throw new UsageError('give one URL');
  let url: URL;
  try {
    url = new URL(operands[0]!);
  } catch {
    throw new UsageError(text`not a URL: ${operands[0]}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError('the URL must be http:// or https://');
  const headers: Record<string, string> = Object.fromEntries(flags.header.map(parseHeader));
  if (flags.bearerEnv !== undefined) {
    const token = process.env[flags.bearerEnv];
    if (!token) throw new UsageError(`--bearer-env ${flags.bearerEnv}: the variable is not set`);
    headers.authorization = `Bearer ${token}`;
  }
  if ((flags.clientCredentials === undefined) !== (flags.secretEnv === undefined)) {
    throw new UsageError('--client-credentials ID needs --secret-env VAR (and the other way round)');
  }
  let clientCredentials: { id: string; secret: string } | undefined;
  if (flags.clientCredentials !== undefined) {
    const secret = process.env[flags.secretEnv!];
    if (!secret) throw new UsageError(`--secret-env ${flags.secretEnv}: the variable is not set`);
    clientCredentials = { id: flags.clientCredentials, secret };
  }
  if (flags.oauth && (clientCredentials || headers.authorization)) {
    throw new UsageError('--oauth cannot be combined with another credential');
  }
  const oauth = flags.oauth
    ? {
        timeoutMs: 300_000,
        openUrl: (link: string) => printErr(text`scan: open this URL in your browser to sign in: ${link}\n`),
      }
    : undefined;
  return {
    targets: [
      {
        transport: 'http',
        url,
        headers,
        ...(clientCredentials ? { clientCredentials } : {}),
        ...(oauth ? { oauth } : {}),
      },
    ],
  };
}

function write(report: ScanReport, flags: ScanFlags, exitCode: number): void {
  const document = flags.sarif ? renderSarif(report) : flags.json ? report : undefined;
  if (document !== undefined && flags.output !== undefined) {
    fs.writeFileSync(flags.output, `${JSON.stringify(document, null, 2)}\n`);
  } else if (document !== undefined) {
    printJson(document, 2);
    return;
  }
  printStyled(renderHuman(report, { failOn: flags.failOn, exitCode }), stdoutWantsColour());
}

/** Adds `portcullis scan`. */
export function register(program: Command): void {
  program
    .command('scan')
    .description(
      'Audit an MCP server against the Portcullis checklist: a Streamable HTTP URL, a local server ' +
        '(--stdio -- COMMAND ARGS, always sandboxed) or every server of a client configuration file. ' +
        'Passive unless --active; never calls a tool that is not read-only. Exit 0: nothing at or ' +
        'above --fail-on; 1: findings at or above it; 2: the scan could not be done. See docs/scanner.md.',
    )
    .argument('[target...]', 'the server URL, or with --stdio the command and its arguments (after --)')
    .option(
      '--stdio',
      'start the server given after -- and speak MCP over its stdin/stdout (inside the sandbox)',
    )
    .option('--header <header>', 'a request header for the server, "Name: value" (repeatable)', collect, [])
    .option('--bearer-env <var>', 'send "Authorization: Bearer $VAR"')
    .option(
      '--oauth',
      'sign in as a person: the scanner registers itself, prints a URL to open and waits for the login on 127.0.0.1',
    )
    .option(
      '--client-credentials <id>',
      'log in as this machine client (client_credentials grant at the server’s authorization server)',
    )
    .option(
      '--secret-env <var>',
      'the client secret for --client-credentials, from this environment variable',
    )
    .option(
      '--client-config <file>',
      'scan every server of a Claude Desktop, Claude Code, VS Code or Cursor configuration file',
    )
    .option('--config-only', 'with --client-config: check the file only; start and connect no server')
    .option(
      '--active',
      'also probe: invalid arguments to read-only tools, a re-listing, a burst of ≤ 200 listings',
    )
    .addOption(
      new Option('--json', 'print the report as JSON (docs/scan-report.schema.json)').conflicts('sarif'),
    )
    .option('--sarif', 'print the report as SARIF 2.1.0')
    .option('--output <file>', 'write the --json or --sarif report to FILE and print the human report')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this')
        .choices(SEVERITIES)
        .default('high'),
    )
    .option(
      '--baseline <file>',
      'an earlier --json report: report what changed since (new and changed definitions)',
    )
    .option('--timeout <seconds>', 'deadline of each request', '15')
    .option('--deadline <seconds>', 'deadline of the scan of each server', '120')
    .option(
      '--allow-read <path>',
      'stdio: a path the server may read in the sandbox (repeatable)',
      collect,
      [],
    )
    .option(
      '--allow-write <path>',
      'stdio: a path the server may write in the sandbox (repeatable)',
      collect,
      [],
    )
    .option('--allow-network', 'stdio: give the sandboxed server network access')
    .option('--env <name>', 'stdio: pass this environment variable to the server (repeatable)', collect, [])
    .option('--quiet', 'no progress lines on stderr')
    .action(async (operands: string[], flags: ScanFlags) => {
      if (flags.output !== undefined && !flags.json && !flags.sarif)
        throw new UsageError('--output needs --json or --sarif');
      const requestTimeoutMs = seconds(flags.timeout, '--timeout');
      const targetTimeoutMs = seconds(flags.deadline, '--deadline');
      let report: ScanReport;
      try {
        const { targets, clientConfig } = targetsOf(flags, operands);
        const baseline = flags.baseline !== undefined ? readBaseline(flags.baseline) : undefined;
        report = await runScan({
          targets,
          active: flags.active === true,
          requestTimeoutMs,
          // The person's browser login has its own five minutes.
          targetTimeoutMs: targetTimeoutMs + (flags.oauth ? 300_000 : 0),
          ...(baseline ? { baseline } : {}),
          ...(clientConfig ? { clientConfig } : {}),
          ...(flags.quiet ? {} : { progress: (line: string) => printErr(text`scan: ${line}\n`) }),
        });
      } catch (err) {
        if (err instanceof UsageError) throw err;
        // The scan could not be carried out: exit 2, never the "clean" 0 or the "findings" 1.
        const message = isScanError(err)
          ? err.publicMessage
          : err instanceof Error
            ? err.message
            : String(err);
        throw new CommandFailed(`scan failed: ${message}`, { exitCode: 2 });
      }
      const exitCode = exitCodeOf(report, flags.failOn);
      write(report, flags, exitCode);
      if (exitCode === 2)
        throw new CommandFailed('the scan of at least one server failed (see the report)', { exitCode: 2 });
      if (exitCode === 1) throw new CommandFailed('');
    });
}
