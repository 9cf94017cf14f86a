// Proxy targets: one MCP server over stdio (the reference memory server from npm, its graph
// seeded with the same notes), fronted over Streamable HTTP by `portcullis` (every control, the
// upstream sandboxed), `supergateway` or `mcp-proxy` (both stateful, enforcing nothing).
// Usage: proxy.js <portcullis|supergateway|mcp-proxy>; prints `ready <port> [api-key]`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createApiKey } from '../../src/auth/index.js';
import { initDataDir } from '../../src/data-dir/index.js';
import { keepHeapNearLiveSize, startGateway } from '../../src/gateway/index.js';
import { LOAD_LIMITS_ENV } from '../load-limits.js';
import { SEED_NOTES } from '../request.js';

const which = process.argv[2];
const root = path.resolve(import.meta.dirname, '../../..');
const memoryServer = path.join(root, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-proxy-${which}-`));
const memoryFile = path.join(dir, 'memory.jsonl');
fs.writeFileSync(
  memoryFile,
  SEED_NOTES.map((n) =>
    JSON.stringify({ type: 'entity', name: n.title, entityType: 'note', observations: [n.content] }),
  ).join('\n') + '\n',
);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.end();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${which} did not listen on ${port}`);
}

let child: ChildProcess | undefined;
let close: () => Promise<void> = async () => {};
const upstreamEnv = { ...process.env, MEMORY_FILE_PATH: memoryFile };

if (which === 'portcullis') {
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  initDataDir(dataDir);
  fs.writeFileSync(
    path.join(dataDir, 'portcullis.yaml'),
    JSON.stringify({
      upstreams: [
        {
          name: 'memory',
          stdio: { command: process.execPath, args: [memoryServer], env: { MEMORY_FILE_PATH: memoryFile } },
          sandbox: { writable: [dir] },
          tools: { '*': { class: 'read', labels: ['private-data'] } },
        },
      ],
    }),
  );
  // As target c: limits raised for the load, each still checked (load-limits.ts). The per-upstream
  // tier (300 a minute by default) is the one a proxy meets first.
  const env: NodeJS.ProcessEnv = { PORTCULLIS_METRICS__PORT: '0', ...LOAD_LIMITS_ENV };
  keepHeapNearLiveSize(); // as `portcullis start` does
  const gw = await startGateway({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    env,
    logger: pino({ level: 'silent' }),
  });
  // The operator approves the upstream's definitions once, as in the README (pins approve).
  const cli = path.join(root, 'dist/src/cli/main.js');
  const approved = spawnSync(process.execPath, [cli, 'pins', 'approve', 'memory', '--data-dir', dataDir], {
    encoding: 'utf8',
  });
  if (approved.status !== 0) throw new Error(`pins approve failed: ${approved.stderr}`);
  const { key } = await createApiKey(
    gw.storage.apiKeys,
    { owner: 'bench', label: 'bench', scopes: ['memory:read'], expiresAt: null },
    new Date(),
  );
  // The gateway applies an approval made by another process at its next poll of the pin
  // revision (about a second): ready only once the upstream's tools are served.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    if ((await res.text()).includes('"memory__search_nodes"')) break;
    if (Date.now() > deadline) throw new Error('the approved upstream tools never appeared');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.stdout.write(`ready ${gw.mcpUrl.port} ${key}\n`);
  close = () => gw.close();
} else {
  const port = await freePort();
  const args =
    which === 'supergateway'
      ? [
          '--stdio',
          `${process.execPath} ${memoryServer}`,
          '--outputTransport',
          'streamableHttp',
          '--stateful',
          '--port',
          String(port),
          '--logLevel',
          'none',
        ]
      : [
          '--server',
          'stream',
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--',
          process.execPath,
          memoryServer,
        ];
  const bin = path.join(root, 'node_modules/.bin', which === 'supergateway' ? 'supergateway' : 'mcp-proxy');
  child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'], env: upstreamEnv });
  await waitForPort(port);
  process.stdout.write(`ready ${port}\n`);
  close = async () => {
    const exited = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGTERM');
    await exited;
  };
}

process.on('SIGTERM', () => {
  void close().then(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
