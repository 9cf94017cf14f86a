import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  auditTip,
  callWithBothSdks,
  countNotes,
  legacyToolCall,
  modernHeaders,
  modernToolCall,
  recordsAfter,
} from '../helpers/audit-records.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * A request the protocol refuses must be refused before anything with effects runs. Answering
 * 415 after the tool ran tells a well-behaved client to fix its request and send it again: the
 * write happens twice.
 */
describe('protocol checks that come after the side effect', () => {
  let t: TestGateway;
  let key: string;
  before(async () => {
    t = await startTestGateway();
    key = (await t.key()).key;
  });
  after(() => t.close());

  const body = JSON.stringify(legacyToolCall('memory_save', { content: 'written twice?' }));

  for (const contentType of [
    'text/plain',
    'application/jsonx',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    undefined,
  ]) {
    it(`a 2025 memory_save sent as ${contentType ?? 'no Content-Type'} gets 415 and stores nothing`, async () => {
      const notes = countNotes(t.dataDir);
      const tip = await auditTip(t);
      const headers: Record<string, string> = {
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        authorization: `Bearer ${key}`,
      };
      if (contentType) headers['content-type'] = contentType;
      // A Blob without a type: fetch adds no Content-Type of its own.
      const res = await fetch(t.url, { method: 'POST', headers, body: new Blob([body]) });
      assert.equal(res.status, 415);
      assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32000);
      assert.equal(countNotes(t.dataDir), notes);
      // The body was never read: there was no tool call to record.
      assert.deepEqual(await recordsAfter(t, tip, 'tool-call'), []);
    });
  }

  it('a 2026-07-28 memory_save sent as text/plain gets 415 and stores nothing', async () => {
    const notes = countNotes(t.dataDir);
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { ...modernHeaders(key, 'tools/call', 'memory_save'), 'content-type': 'text/plain' },
      body: JSON.stringify(modernToolCall('memory_save', { content: 'x' })),
    });
    assert.equal(res.status, 415);
    assert.equal(countNotes(t.dataDir), notes);
  });

  it('a 2025 memory_save that does not accept text/event-stream gets 406, stores nothing and is recorded once', async () => {
    const notes = countNotes(t.dataDir);
    const tip = await auditTip(t);
    const res = await postMcp(t.url, undefined, { key, raw: body, headers: { accept: 'application/json' } });
    assert.equal(res.status, 406);
    assert.equal(countNotes(t.dataDir), notes);
    const records = await recordsAfter(t, tip, 'tool-call');
    assert.equal(records.length, 1);
    assert.equal(records[0]!.errorCode, 'not-acceptable');
  });

  const envelopes: [string, string][] = [
    ['a null id', JSON.stringify(legacyToolCall('memory_save', { content: 'x' }, null))],
    ['a fractional id', JSON.stringify(legacyToolCall('memory_save', { content: 'x' }, 1.5))],
    ['an extra member', JSON.stringify({ ...legacyToolCall('memory_save', { content: 'x' }), extra: true })],
    [
      'no id (a notification)',
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'tools/call',
        params: { name: 'memory_save', arguments: { content: 'x' } },
      }),
    ],
  ];
  for (const [what, raw] of envelopes) {
    it(`a 2025 memory_save with ${what} gets 400, stores nothing and is recorded once`, async () => {
      const notes = countNotes(t.dataDir);
      const tip = await auditTip(t);
      const res = await postMcp(t.url, undefined, { key, raw });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32600);
      assert.equal(countNotes(t.dataDir), notes);
      const records = await recordsAfter(t, tip, 'tool-call');
      assert.equal(records.length, 1);
      assert.equal(records[0]!.errorCode, 'invalid-request');
    });
  }

  it('beside them, application/json with a charset is served, and SDK v2 and 1.x clients each save once', async () => {
    const notes = countNotes(t.dataDir);
    const res = await postMcp(t.url, undefined, {
      key,
      raw: body,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    assert.equal(res.status, 200);
    assert.match((await readRpc(res)).result?.structuredContent?.id ?? '', /^note_/);
    await callWithBothSdks(t.url, key, [{ name: 'memory_save', arguments: { content: 'once' } }]);
    assert.equal(countNotes(t.dataDir), notes + 3);
  });
});
