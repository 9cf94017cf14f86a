// Runs the pinned @modelcontextprotocol/conformance server scenarios against a real gateway in its
// default profile (built-in tools only), behind the API-key proxy (key-proxy.ts). Usage (after
// `npm run build`):
//   node dist/test/conformance/run-server.js [--scenario NAME]
// Results land in test-artifacts/conformance/; known gaps are listed with a reason each in
// expected-failures.yaml and do not fail the run.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startTestGateway } from '../helpers/gateway.js';
import { CONFORMANCE_BIN, ROOT } from './authorization-support.js';
import { startKeyProxy } from './key-proxy.js';

const t = await startTestGateway();
const { key } = await t.key({ scopes: ['memory:read', 'memory:write', 'memory:delete', 'web:fetch'] });
const proxy = await startKeyProxy(t.url, key);

const args = [
  CONFORMANCE_BIN,
  'server',
  '--url',
  proxy.url,
  '--expected-failures',
  path.join(ROOT, 'test/conformance/expected-failures.yaml'),
  '-o',
  path.join(ROOT, 'test-artifacts/conformance'),
  ...process.argv.slice(2),
];
const code = await new Promise<number | null>((resolve) =>
  spawn(process.execPath, args, { stdio: 'inherit' }).on('exit', resolve),
);
await proxy.close();
await t.close();
process.exit(code ?? 1);
