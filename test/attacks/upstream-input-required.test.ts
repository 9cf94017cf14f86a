// Attack: a 2026-07-28 upstream's multi-round trips (input_required) used against the gateway's
// controls. (a) A caller hands in a requestState that is not its own: another caller's, one
// from another upstream's call, or the upstream's own state format guessed on a fresh call, to
// steer the upstream's flow. (b) The upstream asks for elicitation although the envelope said
// the caller cannot answer, hoping the question reaches someone anyway. (c) The upstream asks
// for sampling while the operator left `inputRequests.sampling` off. Before the gateway spoke
// 2026-07-28 upstream, this server (which refuses `initialize`) was never served at all; here
// the upstream's state never leaves the gateway, an undeclared request ends the call with an
// error naming it, and the legitimate flows beside each attack still complete.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/modern-hostile-server.js');

type Rpc = { result?: any; error?: { code: number; message: string; data?: any } };

/** A 2026-07-28 tools/call through the gateway, declaring `caps`, with retry fields in `extra`. */
async function call(
  t: TestGateway,
  key: string,
  name: string,
  args: Record<string, unknown>,
  caps: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<Rpc> {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${key}`,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name,
        arguments: args,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'attack', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': caps,
        },
        ...extra,
      },
    }),
  });
  return (await res.json()) as Rpc;
}

const text = (r: Rpc) => (r.result?.content ?? []).map((b: { text?: string }) => b.text ?? '').join('\n');
const ELICIT = { elicitation: {} };
const ANSWER = { confirm: { action: 'accept', content: { password: 'hunter2' } } };

describe('attack: a 2026-07-28 upstream’s input_required rounds against the gateway’s controls', () => {
  let t: TestGateway;
  let alice: string;
  let bob: string;
  /** What reached upstream `one` (its `seen` tool), read by alice. */
  const seen = async () => JSON.parse(text(await call(t, alice, 'one__seen', {}, {})).match(/\{.*\}/s)![0]);

  before(async () => {
    const upstream = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      stdio: { command: NODE, args: [FIXTURE] },
      protocol: '2026-07-28',
      tools: { '*': { class: 'read' } },
      pinning: 'trust-on-first-use',
      ...extra,
    });
    t = await startTestGateway({
      config: upstreamsConfig([upstream('one'), upstream('two', { inputRequests: { sampling: true } })]),
    });
    const scopes = ['one:read', 'two:read'];
    alice = (await t.key({ owner: 'alice', scopes })).key;
    bob = (await t.key({ owner: 'bob', scopes })).key;
    await eventually(async () => {
      const [a, b] = await Promise.all([
        call(t, alice, 'one__seen', {}, {}),
        call(t, alice, 'two__seen', {}, {}),
      ]);
      return a.result && !a.result.isError && b.result && !b.result.isError ? true : undefined;
    }, 'both upstreams to be served');
  });
  after(async () => t?.close());

  it('(a) another caller’s state, another upstream’s, or the upstream’s own guessed: none reaches the flow', async () => {
    const first = await call(t, alice, 'one__flow', { tag: 'alice' }, ELICIT);
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    // The upstream's own key is kept; its state is not what the caller holds.
    assert.deepEqual(Object.keys(first.result.inputRequests), ['confirm']);
    const state: string = first.result.requestState;
    assert.match(state, /^pcr1\./);
    assert.doesNotMatch(JSON.stringify(first), /alice:\d/);

    const stolen = await call(t, bob, 'one__flow', { tag: 'alice' }, ELICIT, {
      requestState: state,
      inputResponses: ANSWER,
    });
    assert.equal(stolen.error?.code, -32602, JSON.stringify(stolen));
    const crossed = await call(t, alice, 'two__flow', { tag: 'alice' }, ELICIT, {
      requestState: state,
      inputResponses: ANSWER,
    });
    assert.equal(crossed.error?.code, -32602, JSON.stringify(crossed));
    // Bob guesses the upstream's own state format on a fresh call: it is not passed upstream.
    const guessed = await call(t, bob, 'one__flow', { tag: 'bob' }, ELICIT, {
      requestState: 'alice:1',
      inputResponses: ANSWER,
    });
    assert.equal(guessed.result?.resultType, 'input_required', JSON.stringify(guessed));
    assert.equal((await seen()).requestStates.length, 0, 'no caller-supplied state reached the upstream');

    // Alice's own retry carries her answer and the upstream's state back, byte for byte, once.
    const own = await call(t, alice, 'one__flow', { tag: 'alice' }, ELICIT, {
      requestState: state,
      inputResponses: ANSWER,
    });
    assert.equal(own.result?.resultType, 'complete', JSON.stringify(own));
    assert.match(
      text(own),
      /state=alice:\d+ answer=\{"confirm":\{"action":"accept","content":\{"password":"hunter2"\}\}\}/,
    );
    const again = await call(t, alice, 'one__flow', { tag: 'alice' }, ELICIT, {
      requestState: state,
      inputResponses: ANSWER,
    });
    assert.equal(again.error?.code, -32602);
    const after = await seen();
    assert.equal(after.requestStates.length, 1);
    assert.match(after.requestStates[0], /^alice:\d+$/);
  });

  it('(b) a caller that declared no elicitation is never asked; one that did is, under the upstream’s key', async () => {
    const refused = await call(t, alice, 'one__ask_anyway', { method: 'elicitation/create' }, {});
    assert.equal(refused.result?.resultType, 'complete', JSON.stringify(refused));
    assert.equal(refused.result.isError, true);
    assert.match(text(refused), /asked for elicitation\.form, which this call did not declare/);
    assert.equal(refused.result.inputRequests, undefined);
    // The envelope the upstream got claimed nothing for this caller.
    const caps = (await seen()).capabilities;
    assert.deepEqual(caps.at(-2), {});

    const asked = await call(t, alice, 'one__ask_anyway', { method: 'elicitation/create' }, ELICIT);
    assert.equal(asked.result?.resultType, 'input_required', JSON.stringify(asked));
    assert.deepEqual(Object.keys(asked.result.inputRequests), ['wanted']);
    assert.match(asked.result.inputRequests.wanted.params.message, /^Request from the upstream server "one"/);
  });

  it('never tells the upstream more than the caller declared and the operator relays', async () => {
    await call(t, alice, 'one__seen', {}, { elicitation: { url: {} }, sampling: { tools: {} }, roots: {} });
    // `one` relays form elicitation only (the default): the caller's URL mode, sampling and roots stay out.
    assert.deepEqual((await seen()).capabilities.at(-2), {});
    await call(t, alice, 'one__seen', {}, { elicitation: {}, sampling: { tools: {} }, roots: {} });
    assert.deepEqual((await seen()).capabilities.at(-2), { elicitation: { form: {} } });
  });

  it('(c) sampling while inputRequests.sampling is off ends the call with an error naming the switch', async () => {
    const refused = await call(
      t,
      alice,
      'one__ask_anyway',
      { method: 'sampling/createMessage' },
      { sampling: {} },
    );
    assert.equal(refused.result?.isError, true, JSON.stringify(refused));
    assert.match(
      text(refused),
      /asked for sampling, which the operator does not relay .*inputRequests\.sampling is off/,
    );
    // Beside it, `two` relays sampling: the same request reaches the caller that declared it.
    const relayed = await call(
      t,
      alice,
      'two__ask_anyway',
      { method: 'sampling/createMessage' },
      { sampling: {} },
    );
    assert.equal(relayed.result?.resultType, 'input_required', JSON.stringify(relayed));
    assert.equal(relayed.result.inputRequests.wanted.method, 'sampling/createMessage');
    const done = await call(
      t,
      alice,
      'two__ask_anyway',
      { method: 'sampling/createMessage' },
      { sampling: {} },
      {
        requestState: relayed.result.requestState,
        inputResponses: { wanted: { role: 'assistant', content: { type: 'text', text: 'yes' }, model: 'm' } },
      },
    );
    assert.equal(done.result?.resultType, 'complete', JSON.stringify(done));
    assert.match(text(done), /answered/);
  });
});
