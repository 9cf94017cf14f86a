// Several gateway replicas in one test process on one PostgreSQL schema and one Redis prefix:
// what a deployment behind a load balancer looks like, without the balancer.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createPgTestSchema, type PgTestSchema } from '../../src/storage/postgres/test-support.js';
import { postMcp, startTestGateway, tempDir, type TestGateway } from './gateway.js';
import { SHARED_REDIS_URL } from './redis.js';

export interface Replicas {
  readonly replicas: readonly TestGateway[];
  readonly db: PgTestSchema;
  readonly prefix: string;
  close(): Promise<void>;
}

export async function startReplicas(
  n: number,
  opts: { redisUrl?: string; env?: NodeJS.ProcessEnv; config?: string } = {},
): Promise<Replicas> {
  const redisUrl = opts.redisUrl ?? SHARED_REDIS_URL;
  const db = await createPgTestSchema();
  const prefix = `portcullis-test:${randomUUID()}:`;
  const config =
    `storage:\n  driver: postgres\n  url: ${db.writeUrl}\n  readUrl: ${db.readUrl}\n  schema: ${db.schema}\n` +
    (opts.config ?? '');
  const env = { PORTCULLIS_REDIS__URL: redisUrl, PORTCULLIS_REDIS__PREFIX: prefix, ...opts.env };
  const replicas: TestGateway[] = [];
  // One after the other: the first runs the migrations. The others get a copy of its keys (what
  // an operator does with references or a mounted Secret), so they sign, seal and MAC alike.
  replicas.push(await startTestGateway({ config, env }));
  for (let i = 1; i < n; i++) {
    const dataDir = tempDir();
    fs.cpSync(path.join(replicas[0]!.dataDir, 'keys'), path.join(dataDir, 'keys'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'portcullis.yaml'), config);
    replicas.push(await startTestGateway({ dataDir, env }));
  }
  return {
    replicas,
    db,
    prefix,
    async close() {
      await Promise.all(replicas.map((r) => r.close()));
      await db.drop();
      const client = new Redis(redisUrl, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined);
      try {
        const keys = await client.keys(`${prefix}*`);
        if (keys.length > 0) await client.del(...keys);
      } catch {
        // a private Redis already gone holds nothing
      } finally {
        client.disconnect();
      }
    },
  };
}

/** A 2025 initialize that declares elicitation, so the gateway keeps a stateful session. */
export const STATEFUL_INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: { elicitation: { form: {} } },
    clientInfo: { name: 'raw', version: '1' },
  },
};

/** Opens a 2025 stateful session (the client declares elicitation) on `url`; returns its id. */
export async function openSession(url: string, key: string): Promise<string> {
  const res = await postMcp(url, STATEFUL_INITIALIZE, { key });
  assert.equal(res.status, 200);
  await res.text();
  const id = res.headers.get('mcp-session-id');
  assert.ok(id);
  await (
    await postMcp(
      url,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { key, headers: { 'mcp-session-id': id } },
    )
  ).text();
  return id;
}
