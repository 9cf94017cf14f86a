import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputRequest } from '../tools/index.js';
import { answerInputRequired, MAX_INPUT_ROUNDS, type InputRoundsDeps } from './answer-input-required.js';
import { isUpstreamError } from './errors.js';

const ELICIT = {
  method: 'elicitation/create',
  params: { message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } },
};
const SAMPLE = { method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } };

/** A server that answers each retry with the next of `answers`, keeping what it was sent. */
function harness(answers: unknown[], overrides: Partial<InputRoundsDeps> = {}) {
  const sent: Record<string, unknown>[] = [];
  const asked: InputRequest[] = [];
  const deps: InputRoundsDeps = {
    upstream: 'up',
    params: { name: 'tool', arguments: { a: 1 } },
    send: async (p) => {
      sent.push(p);
      return answers.shift();
    },
    ask: async (r) => {
      asked.push(r);
      return { action: 'accept', content: { name: 'Ada' } };
    },
    declared: { elicitation: { form: {} } },
    callerDeclared: { elicitation: {} },
    ...overrides,
  };
  return { deps, sent, asked };
}

const rejects = async (p: Promise<unknown>, code: string, message: RegExp) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(isUpstreamError(err), String(err));
    assert.equal(err.code, code);
    assert.match(err.publicMessage, message);
    return true;
  });

describe('answering a 2026-07-28 upstream’s input_required rounds', () => {
  it('asks under the upstream’s keys and retries with the answers and its state, byte for byte', async () => {
    const done = { resultType: 'complete', content: [] };
    const h = harness([done]);
    const result = await answerInputRequired(
      { resultType: 'input_required', inputRequests: { user_name: ELICIT }, requestState: ' opaque\u00e9 ' },
      h.deps,
    );
    assert.equal(result, done);
    assert.deepEqual(
      h.asked.map((r) => [r.key, r.method, r.upstream]),
      [['user_name', 'elicitation/create', 'up']],
    );
    assert.deepEqual(h.sent, [
      {
        name: 'tool',
        arguments: { a: 1 },
        inputResponses: { user_name: { action: 'accept', content: { name: 'Ada' } } },
        requestState: ' opaque\u00e9 ',
      },
    ]);
  });

  it('refuses a request the call did not declare, naming whose switch is off, before asking anything', async () => {
    const both = { resultType: 'input_required', inputRequests: { a: ELICIT, b: SAMPLE } };
    const h = harness([]);
    await rejects(
      answerInputRequired(both, h.deps),
      'upstream-undeclared-request',
      /asked for sampling, which this call did not declare/,
    );
    assert.equal(h.asked.length, 0);
    const byOperator = harness([], { callerDeclared: { elicitation: {}, sampling: {} } });
    await rejects(
      answerInputRequired(both, byOperator.deps),
      'upstream-undeclared-request',
      /operator does not relay .*inputRequests\.sampling is off/,
    );
    const url = {
      resultType: 'input_required',
      inputRequests: { u: { ...ELICIT, params: { mode: 'url', url: 'https://x' } } },
    };
    await rejects(
      answerInputRequired(url, harness([]).deps),
      'upstream-undeclared-request',
      /elicitation\.url/,
    );
  });

  it('leaves out what the caller did not answer, and gives up on a server that keeps asking', async () => {
    const again = () => ({ resultType: 'input_required', inputRequests: { a: ELICIT }, requestState: 's' });
    const h = harness(Array.from({ length: MAX_INPUT_ROUNDS }, again), {
      ask: async () => {
        throw new Error('declined');
      },
    });
    await rejects(answerInputRequired(again(), h.deps), 'upstream-protocol-error', /kept asking/);
    assert.equal(h.sent.length, MAX_INPUT_ROUNDS);
    assert.deepEqual(h.sent[0], { name: 'tool', arguments: { a: 1 }, requestState: 's' });
  });

  it('refuses malformed rounds: no content, unknown methods, odd params, oversized state', async () => {
    const h = harness([]);
    const bad = [
      { resultType: 'input_required' },
      { resultType: 'input_required', inputRequests: [] },
      { resultType: 'input_required', inputRequests: { a: { method: 'tools/call', params: {} } } },
      { resultType: 'input_required', inputRequests: { a: { method: 'roots/list', params: 'x' } } },
      { resultType: 'input_required', requestState: 'x'.repeat(64 * 1024 + 1) },
      { resultType: 'input_required', requestState: 7 },
    ];
    for (const round of bad) {
      await rejects(
        answerInputRequired(round, h.deps),
        'upstream-protocol-error',
        /malformed input_required/,
      );
    }
    assert.equal(h.sent.length, 0);
  });

  it('retries a state-only round (a server shedding load) with the state alone', async () => {
    const h = harness([{ resultType: 'complete' }]);
    await answerInputRequired({ resultType: 'input_required', requestState: 'later' }, h.deps);
    assert.deepEqual(h.sent, [{ name: 'tool', arguments: { a: 1 }, requestState: 'later' }]);
    assert.equal(h.asked.length, 0);
  });
});
