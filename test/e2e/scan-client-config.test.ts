import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';
import { NODE, REFERENCE_SERVERS } from '../helpers/upstream-servers.js';

/** Literal credentials for the sample files, built at run time (no token-shaped literal in the repo). */
const GITHUB_PAT = `ghp_${'Zy9Xw8Vu7Ts6'.repeat(3)}`;
const API_KEY = `k3y-${'a9F2'.repeat(6)}`;

describe('portcullis scan --client-config', () => {
  const dir = tempDir('portcullis-client-config-');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string) => {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  };
  const scanFile = async (file: string, ...extra: string[]) => {
    const r = await runCli(['scan', '--quiet', '--json', '--client-config', file, ...extra]);
    return { code: r.code, report: JSON.parse(r.stdout), stdout: r.stdout, stderr: r.stderr };
  };
  const checksOf = (report: any) =>
    report.findings.map((f: any) => `${f.check} ${f.location.path ?? f.location.name ?? ''}`.trim()).sort();

  it('Claude Desktop with secrets: plaintext env and header values, a stdio bridge, an unpinned package', async () => {
    const file = write(
      'claude_desktop_config.json',
      JSON.stringify({
        mcpServers: {
          github: {
            command: 'npx',
            args: ['-y', '@modelcontextprotocol/server-github'],
            env: { GITHUB_PERSONAL_ACCESS_TOKEN: GITHUB_PAT },
          },
          crm: {
            command: 'npx',
            args: [
              '-y',
              'mcp-remote@0.1.38',
              'https://crm.example.com/mcp',
              '--header',
              `Authorization: Bearer ${API_KEY}`,
            ],
          },
          legacy: { url: 'http://tools.example.com/mcp', headers: { 'X-Api-Key': API_KEY } },
        },
      }),
    );
    const { code, report, stdout } = await scanFile(file, '--config-only');
    assert.equal(code, 1);
    assert.equal(report.clientConfig, file);
    assert.deepEqual(checksOf(report), [
      'config/insecure-url legacy.url',
      'config/plaintext-secret crm.args[4]',
      'config/plaintext-secret github.env.GITHUB_PERSONAL_ACCESS_TOKEN',
      'config/plaintext-secret legacy.headers.X-Api-Key',
      'config/stdio-bridge crm.command',
      'config/unpinned-package github.args',
    ]);
    assert.ok(!stdout.includes(GITHUB_PAT) && !stdout.includes(API_KEY), 'a secret was printed');
  });

  it('VS Code without secrets: ${input:} and ${env:} references pass, comments are read', async () => {
    const file = write(
      '.vscode/mcp.json',
      `{
        // Secrets come from prompts and the environment, never from this file.
        "inputs": [{ "type": "promptString", "id": "token", "password": true }],
        "servers": {
          "notes": { "type": "http", "url": "https://notes.example.com/mcp", "headers": { "Authorization": "Bearer \${input:token}" } },
          "db": { "type": "stdio", "command": "/opt/mcp/db-server", "args": ["--read-only"], "env": { "DB_PASSWORD": "\${env:DB_PASSWORD}" } },
        },
      }`,
    );
    const { code, report } = await scanFile(file, '--config-only');
    assert.equal(code, 0);
    assert.deepEqual(report.findings, []);
  });

  it('scans every server of the file, sandboxed, and finds a tool name served twice (shadowing)', async () => {
    const file = write(
      'two-memories.json',
      JSON.stringify({
        mcpServers: {
          notes: { command: NODE, args: [REFERENCE_SERVERS.memory] },
          'more-notes': { command: NODE, args: [REFERENCE_SERVERS.memory] },
        },
      }),
    );
    const { code, report } = await scanFile(file);
    assert.equal(code, 1, JSON.stringify(report.targets.map((t: any) => t.error)));
    assert.deepEqual(
      report.targets.map((t: any) => [t.id, t.listed]),
      [
        [`${file}#notes`, true],
        [`${file}#more-notes`, true],
      ],
    );
    const shadowed = report.findings.filter((f: any) => f.check === 'poisoning/tool-shadowing');
    assert.ok(shadowed.some((f: any) => f.location.name === 'read_graph' && f.target === `${file}#notes`));
    assert.ok(shadowed.every((f: any) => f.severity === 'high'));
  });

  it('refuses a file that is not a client configuration, with exit 2', async () => {
    const r = await runCli(['scan', '--quiet', '--client-config', write('nothing.json', '{"editor": {}}')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no MCP servers found/);
    assert.equal(
      (await runCli(['scan', '--quiet', '--client-config', path.join(dir, 'absent.json')])).code,
      2,
    );
  });
});
