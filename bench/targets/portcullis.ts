// Target (c): Portcullis itself with every control built so far, on SQLite in a fresh data
// directory. The API key goes to the orchestrator on stdout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createApiKey } from '../../src/auth/index.js';
import { BUILT_IN_SCOPES } from '../../src/tools/index.js';
import { keepHeapNearLiveSize, startGateway } from '../../src/gateway/index.js';
import { LOAD_LIMITS_ENV } from '../load-limits.js';
import { SEED_NOTES, TOOL_CALL_HEADERS } from '../request.js';
import { startStallTrace, type StallTrace } from '../stall-trace.js';
import { profileOnSignal } from './profile-hook.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-portcullis-'));
// The measured call must never be refused: limits stay on with room for the load (load-limits.ts).
const env: NodeJS.ProcessEnv = { PORTCULLIS_METRICS__PORT: '0', ...LOAD_LIMITS_ENV };
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('PORTCULLIS_')) env[k] = v;
keepHeapNearLiveSize(); // as `portcullis start` does
const gw = await startGateway({
  dataDir: dir,
  port: 0,
  host: '127.0.0.1',
  env,
  logger: pino({ level: 'silent' }),
});
const { key } = await createApiKey(
  gw.storage.apiKeys,
  { owner: 'bench', label: 'bench', scopes: [...BUILT_IN_SCOPES], expiresAt: null },
  new Date(),
);
for (const n of SEED_NOTES) {
  const res = await fetch(gw.mcpUrl, {
    method: 'POST',
    headers: { ...TOOL_CALL_HEADERS, 'mcp-name': 'memory_save', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'memory_save',
        arguments: n,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });
  if (res.status !== 200) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
}
const saveProfile = profileOnSignal();
// BENCH_STALL_TRACE=file: event-loop stalls and GCs from readiness to SIGTERM (stall-trace.ts).
const trace: StallTrace | undefined = process.env.BENCH_STALL_TRACE
  ? startStallTrace(process.env.BENCH_STALL_TRACE)
  : undefined;
process.stdout.write(`ready ${gw.mcpUrl.port} ${key}\n`);
process.on('SIGTERM', () => {
  trace?.stop();
  void saveProfile()
    .then(() => gw.close())
    .then(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
});
