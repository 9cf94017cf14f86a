import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ACCEPT, DECLINE, type ElicitAnswer } from '../helpers/policy-clients.js';

type Result = { structuredContent?: any; content: { type: string; text: string }[]; isError?: boolean };

/** An SDK 1.x client on 2025-11-25 that declares elicitation, so it gets a stateful session. */
async function connectSession(url: string, key: string, answer: (message: string) => Promise<ElicitAnswer>) {
  const asked: string[] = [];
  const client = new Client(
    { name: 'session-test', version: '1.0.0' },
    { capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    const message = (request.params as { message: string }).message;
    asked.push(message);
    return answer(message);
  });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  assert.ok(transport.sessionId, 'a stateful session');
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as Result;
  return { client, asked, call };
}

/**
 * Human confirmation for 2025-11-25 clients in a stateful session, for a tool the operator opted
 * in to in-band confirmation: the gateway elicits on the request's own stream and runs the tool
 * only on an exact accept; the call leaves one audit record.
 */
describe('in-band confirmation of a destructive call in a 2025 session (elicitation)', () => {
  let t: TestGateway;
  let key: string;
  before(async () => {
    t = await startTestGateway({
      config:
        'policy:\n  tools:\n    memory_delete: { approval: in-band }\n  confirm:\n    inBandTtlSeconds: 1\n',
    });
    key = (await t.key()).key;
  });
  after(() => t.close());

  it('asks with the exact call, runs after accept, and leaves one audit record', async () => {
    const { client, asked, call } = await connectSession(t.url, key, async () => ACCEPT);
    try {
      const id = (await call('memory_save', { content: 'Session delete.' })).structuredContent.id as string;
      const calls = async () =>
        (await t.audit.log.query({ tool: 'memory_delete', limit: 100 })).filter(
          (r) => r.event === 'tool-call',
        );
      const before = (await calls()).length;
      const r = await call('memory_delete', { id });
      assert.deepEqual(r.structuredContent, { deleted: true });
      assert.equal(asked.length, 1);
      assert.match(asked[0]!, new RegExp(`"id": "${id}"`));
      const records = await calls();
      assert.equal(records.length, before + 1, 'exactly one record for the call');
      assert.deepEqual(records.at(-1)!.reasons, [
        'scope-granted',
        'confirmation-required',
        'confirmation-accepted',
      ]);
      assert.equal((await call('memory_get', { id })).isError, true);
    } finally {
      await client.close();
    }
  });

  it('a decline leaves the note untouched', async () => {
    const { client, call } = await connectSession(t.url, key, async () => DECLINE);
    try {
      const id = (await call('memory_save', { content: 'Keep me (session).' })).structuredContent
        .id as string;
      const r = await call('memory_delete', { id });
      assert.equal(r.isError, true);
      assert.match(r.content[0]!.text, /declined/);
      assert.equal((await call('memory_get', { id })).isError, undefined);
    } finally {
      await client.close();
    }
  });

  it('no answer within the confirmation lifetime leaves the note untouched (timeout)', async () => {
    const { client, call } = await connectSession(t.url, key, async () => {
      // The person answers after the one-second lifetime.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return ACCEPT;
    });
    try {
      const id = (await call('memory_save', { content: 'Too slow (session).' })).structuredContent
        .id as string;
      const r = await call('memory_delete', { id });
      assert.equal(r.isError, true);
      assert.match(r.content[0]!.text, /in time/);
      assert.equal((await call('memory_get', { id })).isError, undefined);
      const [last] = await t.audit.log.query({ tool: 'memory_delete', limit: 1, newest: true });
      assert.ok(last!.reasons.includes('confirmation-expired'));
    } finally {
      await client.close();
    }
  });
});
