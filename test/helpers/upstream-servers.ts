import path from 'node:path';
import { Writable } from 'node:stream';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { pino, type Logger } from 'pino';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The Node running the tests, by absolute path (test gateways get no PATH). */
export const NODE = process.execPath;

/** Entry points of the reference servers installed from the npm registry (never fetched at test time). */
export const REFERENCE_SERVERS = {
  filesystem: path.join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js'),
  memory: path.join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js'),
  everything: path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'),
};

/** The hostile test server (test/fixtures/malicious-server.ts, compiled). */
export const MALICIOUS_SERVER = path.join(ROOT, 'dist/test/fixtures/malicious-server.js');

/** The hostile server that attacks through prompts, resources and notifications (test/fixtures/hostile-surface-server.ts). */
export const HOSTILE_SURFACE_SERVER = path.join(ROOT, 'dist/test/fixtures/hostile-surface-server.js');

/** A gateway configuration with these upstreams (JSON is YAML). */
export function upstreamsConfig(
  upstreams: readonly Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({ ...extra, upstreams }, null, 2);
}

/** A pino logger whose JSON lines are kept in memory, for asserting on alerts and leaks. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

/** An SDK v2 client connected to the gateway with an API key. */
export async function connectClient(url: string, key: string): Promise<Client> {
  const client = new Client({ name: 'upstream-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

/** Polls `check` until it returns a value other than undefined; a bounded loop, not a timer assertion. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  tries = 100,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

export type ToolResult = {
  content: { type: string; text?: string }[];
  structuredContent?: any;
  isError?: boolean;
};

/** Calls a tool and returns the result (a thrown protocol error is returned as `{error}`). */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolResult> {
  const result: unknown = await client.callTool({ name, arguments: args });
  return result as ToolResult;
}

export const textOf = (r: ToolResult) => r.content.map((b) => b.text ?? '').join('\n');
