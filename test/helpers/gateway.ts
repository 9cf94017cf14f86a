import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { createApiKey } from '../../src/auth/index.js';
import { BUILT_IN_SCOPES } from '../../src/tools/index.js';
import {
  startGateway,
  type BuiltAudit,
  type RunningGateway,
  type StartOptions,
} from '../../src/gateway/index.js';

export interface TestGateway {
  readonly gw: RunningGateway;
  readonly url: string;
  readonly dataDir: string;
  /** The gateway's audit log (tests run with it on). */
  readonly audit: BuiltAudit;
  /** Creates an API key directly in the gateway's storage. */
  key(opts?: {
    owner?: string;
    tenant?: string;
    scopes?: readonly string[];
    expiresAt?: Date | null;
  }): Promise<{
    id: string;
    key: string;
  }>;
  close(): Promise<void>;
}

export function tempDir(prefix = 'portcullis-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Starts the real gateway on 127.0.0.1 with a free port and a fresh data directory. */
export async function startTestGateway(
  opts: {
    env?: NodeJS.ProcessEnv;
    config?: string;
    dataDir?: string;
    logger?: Logger;
    upstreamOAuth?: StartOptions['upstreamOAuth'];
  } = {},
): Promise<TestGateway> {
  const dataDir = opts.dataDir ?? tempDir();
  if (opts.config !== undefined) {
    fs.mkdirSync(dataDir, { recursive: true });
    const { initDataDir } = await import('../../src/data-dir/index.js');
    initDataDir(dataDir);
    fs.writeFileSync(path.join(dataDir, 'portcullis.yaml'), opts.config);
  }
  const gw = await startGateway({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    // Metrics on a free port: tests run gateways side by side. Every test's OAuth traffic comes
    // from 127.0.0.1, so the per-address OAuth and registration limits are raised (their own
    // tests run against the defaults), and so is the per-address connection cap, for tests that
    // send hundreds of requests at once (test/attacks/connection-exhaustion.test.ts sets it low).
    env: {
      PORTCULLIS_METRICS__PORT: '0',
      PORTCULLIS_RATE_LIMITS__OAUTH__POINTS: '100000',
      PORTCULLIS_RATE_LIMITS__REGISTRATION__POINTS: '100000',
      PORTCULLIS_SERVER__CONNECTIONS__MAX_PER_ADDRESS: '100000',
      ...opts.env,
    },
    logger: opts.logger ?? pino({ level: 'silent' }),
    ...(opts.upstreamOAuth ? { upstreamOAuth: opts.upstreamOAuth } : {}),
  });
  if (!gw.audit) throw new Error('test gateways run with the audit log on');
  return {
    gw,
    url: gw.mcpUrl.href,
    dataDir,
    audit: gw.audit,
    async key(k = {}) {
      const { record, key } = await createApiKey(
        gw.storage.apiKeys,
        {
          owner: k.owner ?? 'alice',
          tenant: k.tenant,
          label: 'test',
          scopes: k.scopes ?? [...BUILT_IN_SCOPES],
          expiresAt: k.expiresAt ?? null,
        },
        new Date(),
      );
      return { id: record.id, key };
    },
    async close() {
      await gw.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A raw POST to /mcp with the headers a 2025-era client sends. */
export function postMcp(
  url: string,
  body: unknown,
  opts: { key?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
      ...opts.headers,
    },
    body: opts.raw ?? JSON.stringify(body),
  });
}

/** Reads a JSON-RPC message from a JSON or single-event SSE response body. */
export async function readRpc(
  res: Response,
): Promise<{ id?: unknown; result?: any; error?: { code: number; message: string } }> {
  const text = await res.text();
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const data = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .filter((l) => l.trim() !== '');
    return JSON.parse(data[data.length - 1]!);
  }
  return JSON.parse(text);
}
