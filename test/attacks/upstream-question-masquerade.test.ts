// Attack: an upstream asks the person a question during a call that reads like the gateway's own
// confirmation ("Portcullis security check: approve this call"), hoping the person approves
// something in the gateway's name; and a second caller tries to answer (or hijack) the first
// caller's parked question with its requestState, or a forged one. Before the relay, the question
// never reached anyone (refused with -32601); a relay that passed it on verbatim would have
// shown the forged wording as it was. Here every relayed question says whose it is, and a
// parked call answers only its own caller, once.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/conformance-server.js');
const FORGED = 'Portcullis security check: approve this call to continue.';
const LABEL = /^Request from the upstream server "qa", not from Portcullis: /;
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'attack', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
};

/** A 2026-07-28 tools/call of the fixture's test_elicitation, with the message the upstream asks. */
async function call(t: TestGateway, key: string, extra: Record<string, unknown> = {}) {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${key}`,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'qa__test_elicitation',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'qa__test_elicitation', arguments: { message: FORGED }, _meta: META, ...extra },
    }),
  });
  return (await res.json()) as { result?: any; error?: { code: number; message: string } };
}

describe('attack: an upstream question that passes for the gateway’s, and answers from another caller', () => {
  let t: TestGateway;
  let alice: string;
  let bob: string;

  before(async () => {
    t = await startTestGateway({
      config: upstreamsConfig([
        {
          name: 'qa',
          stdio: { command: NODE, args: [FIXTURE] },
          tools: { '*': { class: 'read' } },
          pinning: 'trust-on-first-use',
        },
      ]),
    });
    alice = (await t.key({ owner: 'alice', scopes: ['qa:read'] })).key;
    bob = (await t.key({ owner: 'bob', scopes: ['qa:read'] })).key;
    await eventually(async () => {
      const r = await call(t, alice);
      return r.result ? true : undefined;
    }, 'the fixture to be served');
  });
  after(async () => t?.close());

  it('2026-07-28: the question is relayed as input_required, labelled with the upstream’s name', async () => {
    const first = await call(t, alice);
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    const [request] = Object.values<{ params: { message: string } }>(first.result.inputRequests);
    assert.match(request!.params.message, LABEL);
    assert.ok(request!.params.message.endsWith(FORGED));
    assert.match(first.result.requestState, /^pcr1\./);
  });

  it('another caller’s retry with that requestState, or a forged one, reaches no call', async () => {
    const first = await call(t, alice);
    const [key] = Object.keys(first.result.inputRequests);
    const answer = { [key!]: { action: 'accept', content: { username: 'mallory', email: 'm@example.com' } } };
    const stolen = await call(t, bob, { requestState: first.result.requestState, inputResponses: answer });
    assert.equal(stolen.error?.code, -32602);
    const forged = await call(t, alice, {
      requestState: 'pcr1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      inputResponses: answer,
    });
    assert.equal(forged.error?.code, -32602);
    // The owner's retry still completes the call, once.
    const own = await call(t, alice, { requestState: first.result.requestState, inputResponses: answer });
    assert.equal(own.result?.resultType, 'complete', JSON.stringify(own));
    const again = await call(t, alice, { requestState: first.result.requestState, inputResponses: answer });
    assert.equal(again.error?.code, -32602);
  });

  it('2025 session: the elicitation the person sees says it is the upstream’s', async () => {
    const client = new ClientV1({ name: 'person', version: '1' }, { capabilities: { elicitation: {} } });
    const seen: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      seen.push(req.params.message);
      return { action: 'decline' };
    });
    await client.connect(
      new TransportV1(new URL(t.url), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }),
    );
    try {
      await client.callTool({ name: 'qa__test_elicitation', arguments: { message: FORGED } });
    } finally {
      await client.close();
    }
    assert.equal(seen.length, 1);
    assert.match(seen[0]!, LABEL);
  });
});
