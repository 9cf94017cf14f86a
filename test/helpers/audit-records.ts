import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AuditRecord } from '../../src/audit/index.js';
import type { TestGateway } from './gateway.js';

/** The newest audit seq (0 for an empty log): take it before an attack, count after it. */
export async function auditTip(t: TestGateway): Promise<number> {
  return (await t.audit.log.query({ limit: 1, newest: true })).at(-1)?.seq ?? 0;
}

/** Records appended after `afterSeq`, optionally of one event only. */
export async function recordsAfter(
  t: TestGateway,
  afterSeq: number,
  event?: AuditRecord['event'],
): Promise<AuditRecord[]> {
  const records = await t.audit.log.query({ afterSeq, limit: 100_000 });
  return event ? records.filter((r) => r.event === event) : records;
}

/** How many notes the gateway's own SQLite file holds, read beside the running gateway (WAL). */
export function countNotes(dataDir: string, file = 'portcullis.db'): number {
  const db = new Database(path.join(dataDir, file), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM notes').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The headers an SDK v2 client sends with a 2026-07-28 request for `method` (and `name`). */
export function modernHeaders(key: string, method: string, name?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
    ...(name === undefined ? {} : { 'mcp-name': name }),
    authorization: `Bearer ${key}`,
  };
}

/** A 2026-07-28 tools/call body with the per-request envelope the SDK v2 client sends. */
export function modernToolCall(name: string, args: Record<string, unknown>, id: number | string = 1) {
  return {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name,
      arguments: args,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  };
}

/** A 2025-style tools/call body. */
export const legacyToolCall = (name: unknown, args: unknown, id: unknown = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

/**
 * The legitimate path beside an attack: an SDK v2 client negotiating 2026-07-28 and an SDK 1.x
 * client on 2025-11-25 each make every call in `calls` (with their own key header); any
 * isError result or protocol error fails the test.
 */
export async function callWithBothSdks(
  url: string,
  key: string,
  calls: readonly { name: string; arguments: Record<string, unknown> }[],
): Promise<void> {
  const requestInit = { headers: { authorization: `Bearer ${key}` } };
  const v2 = new ClientV2({ name: 'v2', version: '1' }, { versionNegotiation: { mode: 'auto' } });
  await v2.connect(new TransportV2(new URL(url), { requestInit }));
  const v1 = new ClientV1({ name: 'v1', version: '1' });
  const v1Transport = new TransportV1(new URL(url), { requestInit });
  await v1.connect(v1Transport);
  try {
    assert.equal(v2.getNegotiatedProtocolVersion(), '2026-07-28');
    assert.equal(v1Transport.protocolVersion, '2025-11-25');
    for (const client of [v2, v1] as const) {
      for (const call of calls) {
        const result = (await client.callTool(call)) as { isError?: boolean };
        assert.equal(result.isError, undefined, `${call.name}: ${JSON.stringify(result)}`);
      }
    }
  } finally {
    await v2.close();
    await v1.close();
  }
}
