import fs from 'node:fs';
import { createRedactor } from '../safety/index.js';
import { ScanError } from './errors.js';
import { finding, type Finding } from './report.js';
import { isObject } from './session.js';

/**
 * Reads an MCP client's configuration file — Claude Desktop (`claude_desktop_config.json`),
 * Claude Code (`.mcp.json`, `~/.claude.json` with per-project servers), Cursor (`mcp.json`) and
 * VS Code (`.vscode/mcp.json`, or `mcp.servers` in settings.json; JSON with comments) — into the
 * servers it starts or reaches, and checks the file itself: plaintext secrets, plain-HTTP URLs,
 * local stdio bridges to remote services, unpinned packages.
 */

export type ConfiguredServer =
  | {
      readonly name: string;
      readonly transport: 'stdio';
      readonly command: string;
      readonly args: readonly string[];
      readonly env: Readonly<Record<string, string>>;
    }
  | {
      readonly name: string;
      readonly transport: 'http';
      readonly url: string;
      readonly headers: Readonly<Record<string, string>>;
    };

export interface ClientConfig {
  readonly file: string;
  readonly format: 'claude-desktop' | 'claude-code' | 'cursor' | 'vscode' | 'mcp-servers';
  readonly servers: readonly ConfiguredServer[];
  readonly findings: readonly Finding[];
}

/** JSON with comments and trailing commas (VS Code's format) as plain JSON text. */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) i++;
      i++;
    } else {
      out += c;
    }
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}

/** `${input:x}`, `${env:X}`, `${X}`, `$X`, `{{x}}`: a reference to a secret, not the secret. */
const REFERENCE = /^\s*(?:\$\{[^}]+\}|\$[A-Z_][A-Z0-9_]*|\{\{[^}]+\}\})\s*$/;
const SECRET_NAME = /(?:key|token|secret|passw(?:or)?d|pwd|auth|credential|bearer|cookie|session|private)/i;
const secretPatterns = createRedactor({ patterns: true });

function isPlaintextSecret(name: string, value: string): boolean {
  const bare = value.replace(/^(?:Bearer|Basic|Token)\s+/i, '');
  if (bare === '' || REFERENCE.test(bare) || /\$\{[^}]+\}/.test(bare)) return false;
  if (secretPatterns.redact(value).findings.length > 0) return true;
  return (
    SECRET_NAME.test(name) &&
    bare.length >= 8 &&
    !/^(?:true|false|null|none|changeme|\*+|x+|<[^>]+>)$/i.test(bare)
  );
}

const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;
const RUNNERS = /^(?:npx|bunx|pnpx|uvx|pipx|deno|docker|pnpm|yarn|npm)$/;
const BRIDGES =
  /(?:^|\/)(?:mcp-remote|mcp-proxy|supergateway|@modelcontextprotocol\/server-remote|remote-mcp)(?:@|$)/;

function packageArg(command: string, args: readonly string[]): string | undefined {
  const base = command.split('/').pop()!;
  if (
    !/^(?:npx|bunx|pnpx|uvx)$/.test(base) &&
    !(/^(?:pnpm|yarn|npm)$/.test(base) && /^(?:dlx|exec)$/.test(args[0] ?? ''))
  ) {
    return undefined;
  }
  return args.find((a, i) => !a.startsWith('-') && !(i === 0 && /^(?:dlx|exec)$/.test(a)));
}

function isPinned(pkg: string): boolean {
  const versioned = /^(?:@[^/]+\/)?[^@]+@(\d+\.\d+\.\d+\S*)$/.exec(pkg) ?? /==\d/.exec(pkg);
  return versioned !== null || pkg.startsWith('.') || pkg.startsWith('/');
}

function serversIn(parsed: Record<string, unknown>): {
  format: ClientConfig['format'];
  entries: [string, Record<string, unknown>][];
} {
  const entriesOf = (v: unknown, prefix = ''): [string, Record<string, unknown>][] =>
    isObject(v)
      ? Object.entries(v)
          .filter((e): e is [string, Record<string, unknown>] => isObject(e[1]))
          .map(([n, s]) => [`${prefix}${n}`, s])
      : [];
  if (isObject(parsed.servers)) return { format: 'vscode', entries: entriesOf(parsed.servers) };
  if (isObject(parsed.mcp) && isObject(parsed.mcp.servers))
    return { format: 'vscode', entries: entriesOf(parsed.mcp.servers) };
  const entries = entriesOf(parsed.mcpServers);
  if (isObject(parsed.projects)) {
    for (const [project, p] of Object.entries(parsed.projects)) {
      if (isObject(p)) entries.push(...entriesOf(p.mcpServers, `${project}:`));
    }
    return { format: 'claude-code', entries };
  }
  return { format: 'mcp-servers', entries };
}

const strings = (v: unknown): Record<string, string> =>
  isObject(v)
    ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};

/** Reads and checks a client configuration file. */
export function readClientConfig(file: string): ClientConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripJsonComments(fs.readFileSync(file, 'utf8')));
  } catch (err) {
    throw new ScanError('scan-bad-input', `--client-config ${file}: not a readable JSON file`, {
      cause: err,
    });
  }
  if (!isObject(parsed)) throw new ScanError('scan-bad-input', `--client-config ${file}: not a JSON object`);
  const { format, entries } = serversIn(parsed);
  if (entries.length === 0) {
    throw new ScanError(
      'scan-bad-input',
      `--client-config ${file}: no MCP servers found (mcpServers, servers or mcp.servers)`,
    );
  }
  const id = file;
  const servers: ConfiguredServer[] = [];
  const findings: Finding[] = [];
  for (const [name, s] of entries) {
    const loc = (path: string) => ({ kind: 'file', name: file, path: `${name}.${path}` }) as const;
    const env = strings(s.env);
    const headers = strings(s.headers);
    for (const [k, v] of Object.entries(env)) {
      if (isPlaintextSecret(k, v)) {
        findings.push(
          finding(
            'config/plaintext-secret',
            id,
            loc(`env.${k}`),
            `server “${name}”: env.${k} holds a literal secret (value not shown)`,
          ),
        );
      }
    }
    for (const [k, v] of Object.entries(headers)) {
      if (isPlaintextSecret(k, v)) {
        findings.push(
          finding(
            'config/plaintext-secret',
            id,
            loc(`headers.${k}`),
            `server “${name}”: header ${k} holds a literal secret (value not shown)`,
          ),
        );
      }
    }
    const args = Array.isArray(s.args) ? s.args.filter((a): a is string => typeof a === 'string') : [];
    args.forEach((a, i) => {
      const previous = args[i - 1] ?? '';
      if (
        secretPatterns.redact(a).findings.length > 0 ||
        (/^--?[\w-]*(?:key|token|secret|password)/i.test(previous) && !REFERENCE.test(a))
      ) {
        findings.push(
          finding(
            'config/plaintext-secret',
            id,
            loc(`args[${i}]`),
            `server “${name}”: argument ${i} holds a literal secret (value not shown)`,
          ),
        );
      }
    });
    const url = typeof s.url === 'string' ? s.url : typeof s.serverUrl === 'string' ? s.serverUrl : undefined;
    if (typeof s.command === 'string') {
      servers.push({ name, transport: 'stdio', command: s.command, args, env });
      const base = s.command.split('/').pop()!;
      const remote = args.find((a) => /^https?:\/\//i.test(a) && !LOOPBACK_HOST.test(safeHost(a)));
      if (args.some((a) => BRIDGES.test(a)) || (RUNNERS.test(base) && remote)) {
        findings.push(
          finding(
            'config/stdio-bridge',
            id,
            loc('command'),
            `server “${name}” runs ${base} ${args.slice(0, 3).join(' ')} locally${remote ? ` to reach ${safeOrigin(remote)}` : ''}`,
          ),
        );
      }
      if (remote?.startsWith('http:')) {
        findings.push(
          finding(
            'config/insecure-url',
            id,
            loc('args'),
            `server “${name}” reaches ${safeOrigin(remote)} over plain HTTP`,
          ),
        );
      }
      const pkg = packageArg(s.command, args);
      if (pkg !== undefined && !isPinned(pkg)) {
        findings.push(
          finding(
            'config/unpinned-package',
            id,
            loc('args'),
            `server “${name}” runs ${base} ${pkg} (no exact version)`,
          ),
        );
      }
    } else if (url !== undefined) {
      servers.push({ name, transport: 'http', url, headers });
      if (/^http:/i.test(url) && !LOOPBACK_HOST.test(safeHost(url))) {
        findings.push(
          finding(
            'config/insecure-url',
            id,
            loc('url'),
            `server “${name}” is ${safeOrigin(url)} over plain HTTP`,
          ),
        );
      }
      if (
        secretPatterns.redact(url).findings.length > 0 ||
        /[?&](?:api[_-]?key|token|access_token|key|secret)=[^&${]/i.test(url)
      ) {
        findings.push(
          finding(
            'config/plaintext-secret',
            id,
            loc('url'),
            `server “${name}”: the URL carries a credential (value not shown)`,
          ),
        );
      }
    }
  }
  return { file, format: format === 'mcp-servers' ? guessFormat(file) : format, servers, findings };
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an unparsable URL';
  }
}

function guessFormat(file: string): ClientConfig['format'] {
  if (/claude_desktop_config\.json$/i.test(file)) return 'claude-desktop';
  if (/\.cursor[\\/]/i.test(file)) return 'cursor';
  if (/\.mcp\.json$/i.test(file)) return 'claude-code';
  return 'mcp-servers';
}
