import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { TestGateway } from '../helpers/gateway.js';
import { ACCEPT } from '../helpers/policy-clients.js';
import { startReplicas, type Replicas } from '../helpers/replicas-in-process.js';

type Result = { structuredContent?: any; content: { type: string; text: string }[]; isError?: boolean };

/**
 * What lives on one replica: a question the gateway asks a 2025 session (here the in-band
 * confirmation of a destructive call) waits on the replica that asked. Without session affinity
 * at the balancer the answer can land on another replica: it is refused there with a clear
 * error (409), and the asking replica cancels the question at once — the call ends declined and
 * recorded, instead of hanging until its confirmation timeout (120 s here).
 */
describe('a 2025 session’s answer that reaches the wrong replica', () => {
  let set: Replicas;
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    set = await startReplicas(2, {
      config:
        'policy:\n  tools:\n    memory_delete: { approval: in-band }\n  confirm:\n    inBandTtlSeconds: 120\n',
    });
    [a, b] = set.replicas as [TestGateway, TestGateway];
  });
  after(() => set.close());

  it('is refused with 409 naming session affinity, and the asking call ends at once, not at its timeout', async () => {
    const { key } = await a.key({ owner: 'alice' });
    const misrouted: { status: number; body: string }[] = [];
    // A balancer without affinity, as far as answers go: requests go to A, answers to B.
    const balancer = async (url: string | URL, init?: RequestInit): Promise<Response> => {
      const body =
        typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined;
      if (body && !('method' in body) && 'id' in body) {
        const res = await fetch(b.url, init);
        const text = await res.clone().text();
        misrouted.push({ status: res.status, body: text });
        return res;
      }
      return fetch(url, init);
    };
    const client = new Client(
      { name: 'no-affinity', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    let asked = 0;
    client.setRequestHandler(ElicitRequestSchema, async () => {
      asked++;
      return ACCEPT;
    });
    client.onerror = () => undefined;
    const transport = new StreamableHTTPClientTransport(new URL(a.url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
      fetch: balancer,
    });
    await client.connect(transport);
    try {
      const saved = (await client.callTool({
        name: 'memory_save',
        arguments: { content: 'keep me' },
      })) as Result;
      const id = saved.structuredContent.id as string;
      const started = Date.now();
      const r = (await client.callTool({ name: 'memory_delete', arguments: { id } }, undefined, {
        timeout: 150_000,
      })) as Result;
      const took = Date.now() - started;
      assert.equal(asked, 1, 'the person was asked once');
      assert.equal(misrouted.length, 1);
      assert.equal(misrouted[0]!.status, 409);
      assert.match(misrouted[0]!.body, /did not ask the question.*Mcp-Session-Id/s);
      assert.ok(took < 10_000, `the call ended after ${took} ms, not at the 120 s timeout`);
      assert.equal(r.isError, true, JSON.stringify(r));
      const still = (await client.callTool({ name: 'memory_get', arguments: { id } })) as Result;
      assert.notEqual(still.isError, true, 'nothing was deleted');
    } finally {
      await client.close();
    }
  });
});
