import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  ACCEPT,
  DECLINE,
  answers,
  callTool,
  connectV2,
  modernCall,
  textOf,
} from '../helpers/policy-clients.js';

/** The operator's opt-in: memory_delete may be confirmed in-band (by default it goes to the page). */
const IN_BAND = 'policy:\n  tools:\n    memory_delete: { approval: in-band }\n';

/**
 * Human confirmation on 2026-07-28, for a tool the operator opted in to in-band confirmation:
 * memory_delete is destructive, so it runs only after an input-required round trip whose signed
 * request state binds the person's answer to this exact call. Real SDK v2 clients for the honest
 * flows; raw requests for the attacks.
 */
describe('in-band confirmation of a destructive call on 2026-07-28 (input required)', () => {
  let t: TestGateway;
  let key: string;
  before(async () => {
    t = await startTestGateway({ config: IN_BAND });
    key = (await t.key()).key;
  });
  after(() => t.close());

  const save = async (content: string) => {
    const r = await modernCall(t.url, key, 'memory_save', { content });
    return r.result.structuredContent.id as string;
  };
  const exists = async (id: string) => {
    const r = await modernCall(t.url, key, 'memory_get', { id });
    return r.result.isError !== true;
  };
  /** The first round: the gateway's input-required result and its state. */
  const ask = async (id: string, k = key) => {
    const r = await modernCall(t.url, k, 'memory_delete', { id });
    assert.equal(r.result.resultType, 'input_required', JSON.stringify(r));
    return r.result as { requestState: string; inputRequests: Record<string, any> };
  };

  it('memory_delete asks the person and runs only after they accept', async () => {
    const id = await save('Delete me after asking.');
    const { client, asked } = await connectV2(t.url, key, () => ACCEPT);
    try {
      const r = await callTool(client, 'memory_delete', { id });
      assert.deepEqual(r.structuredContent, { deleted: true }, textOf(r));
      assert.equal(asked.length, 1);
      assert.match(asked[0]!, /Tool: memory_delete/);
      assert.match(asked[0]!, new RegExp(`"id": "${id}"`), 'the person sees the exact arguments');
      assert.equal(await exists(id), false);
    } finally {
      await client.close();
    }
    // Each round's outcome; the accepted round's intent record (written before the delete ran) aside.
    const records = (await t.audit.log.query({ tool: 'memory_delete', limit: 3, newest: true }))
      .filter((r) => r.event === 'tool-call')
      .sort((a, b) => a.seq - b.seq);
    assert.deepEqual(
      records.map((r) => [r.decision, r.outcome, r.reasons]),
      [
        ['confirm', 'denied', ['scope-granted', 'confirmation-required']],
        ['confirm', 'ok', ['scope-granted', 'confirmation-required', 'confirmation-accepted']],
      ],
    );
    assert.equal(records[0]!.args!.hash, records[1]!.args!.hash, 'both rounds carry the argument hash');
  });

  it('a decline leaves the note untouched', async () => {
    const id = await save('Keep me.');
    const { client, asked } = await connectV2(t.url, key, () => DECLINE);
    try {
      const r = await callTool(client, 'memory_delete', { id });
      assert.equal(r.isError, true);
      assert.match(textOf(r), /declined/);
      assert.equal(asked.length, 1);
    } finally {
      await client.close();
    }
    assert.equal(await exists(id), true);
    const [last] = await t.audit.log.query({ tool: 'memory_delete', limit: 1, newest: true });
    assert.deepEqual(last!.reasons, ['scope-granted', 'confirmation-required', 'confirmation-declined']);
  });

  it('the confirmation form is a single boolean and the state is a signed, opaque string', async () => {
    const id = await save('Form check.');
    const round = await ask(id);
    const request = round.inputRequests['portcullis-confirm'];
    assert.equal(request.method, 'elicitation/create');
    assert.equal(request.params.mode, 'form');
    assert.deepEqual(request.params.requestedSchema.required, ['approve']);
    assert.match(round.requestState, /^pcs1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.equal(await exists(id), true);
  });

  it('a pre-filled "accept" without a server-minted state runs nothing', async () => {
    const id = await save('Pre-filled bypass.');
    const r = await modernCall(t.url, key, 'memory_delete', { id }, { inputResponses: answers(ACCEPT) });
    assert.equal(r.result.resultType, 'input_required');
    assert.equal(await exists(id), true);
  });

  it('a forged or tampered state runs nothing', async () => {
    const id = await save('Forged state.');
    const { requestState } = await ask(id);
    const [, body, sig] = requestState.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `pcs1.${Buffer.from(JSON.stringify({ ...claims, e: Date.now() + 9e9 })).toString('base64url')}.${sig}`;
    for (const state of [forged, 'pcs1.e30.AAAA', 'accepted', 7]) {
      const r = await modernCall(
        t.url,
        key,
        'memory_delete',
        { id },
        { requestState: state, inputResponses: answers(ACCEPT) },
      );
      assert.equal(r.result.isError, true, JSON.stringify(r));
      assert.match(r.result.content[0].text, /not issued by Portcullis/);
    }
    assert.equal(await exists(id), true);
    const [last] = await t.audit.log.query({ tool: 'memory_delete', limit: 1, newest: true });
    assert.ok(last!.reasons.includes('confirmation-invalid'));
  });

  it('a replayed state runs nothing: each state answers once', async () => {
    const id = await save('Replay me.');
    const { requestState } = await ask(id);
    const declined = await modernCall(
      t.url,
      key,
      'memory_delete',
      { id },
      { requestState, inputResponses: answers(DECLINE) },
    );
    assert.match(declined.result.content[0].text, /declined/);
    const replay = await modernCall(
      t.url,
      key,
      'memory_delete',
      { id },
      { requestState, inputResponses: answers(ACCEPT) },
    );
    assert.equal(replay.result.isError, true);
    assert.match(replay.result.content[0].text, /already used/);
    assert.equal(await exists(id), true);
    const [last] = await t.audit.log.query({ tool: 'memory_delete', limit: 1, newest: true });
    assert.ok(last!.reasons.includes('confirmation-replayed'));

    // An accepted state cannot be used twice either, even at once.
    const other = await save('Accepted once.');
    const round = await ask(other);
    const both = await Promise.all(
      [1, 2].map(() =>
        modernCall(
          t.url,
          key,
          'memory_delete',
          { id: other },
          { requestState: round.requestState, inputResponses: answers(ACCEPT) },
        ),
      ),
    );
    assert.deepEqual(both.map((r) => r.result.structuredContent?.deleted === true).sort(), [false, true]);
  });

  it('a state given for other arguments runs nothing', async () => {
    const a = await save('Note A.');
    const b = await save('Note B.');
    const { requestState } = await ask(a);
    const r = await modernCall(
      t.url,
      key,
      'memory_delete',
      { id: b },
      { requestState, inputResponses: answers(ACCEPT) },
    );
    assert.equal(r.result.isError, true);
    assert.match(r.result.content[0].text, /given for another call/);
    assert.equal(await exists(b), true);
    const [last] = await t.audit.log.query({ tool: 'memory_delete', limit: 1, newest: true });
    assert.ok(last!.reasons.includes('confirmation-mismatch'));
  });

  it('another credential cannot use a state, even of the same person', async () => {
    const id = await save('Not yours.');
    const { requestState } = await ask(id);
    const otherKey = (await t.key({ owner: 'alice' })).key;
    const r = await modernCall(
      t.url,
      otherKey,
      'memory_delete',
      { id },
      { requestState, inputResponses: answers(ACCEPT) },
    );
    assert.equal(r.result.isError, true);
    assert.match(r.result.content[0].text, /given for another call/);
    assert.equal(await exists(id), true);
  });

  it('a client without elicitation is sent to the approval page instead', async () => {
    const id = await save('Needs the page.');
    const r = await modernCall(t.url, key, 'memory_delete', { id }, { elicitation: false });
    assert.equal(r.result.isError, true);
    assert.match(r.result.content[0].text, /\/approvals\/apr_[A-Za-z0-9_-]+ /);
    assert.equal(await exists(id), true);
  });
});

describe('an in-band confirmation expires', () => {
  let t: TestGateway;
  let key: string;
  before(async () => {
    t = await startTestGateway({ config: `${IN_BAND}  confirm:\n    inBandTtlSeconds: 1\n` });
    key = (await t.key()).key;
  });
  after(() => t.close());

  it('an answer after the state expired runs nothing (timeout)', async () => {
    const saved = await modernCall(t.url, key, 'memory_save', { content: 'Too late.' });
    const id = saved.result.structuredContent.id as string;
    const round = await modernCall(t.url, key, 'memory_delete', { id });
    // The person answers after the one-second lifetime of the state.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const r = await modernCall(
      t.url,
      key,
      'memory_delete',
      { id },
      {
        requestState: round.result.requestState,
        inputResponses: answers(ACCEPT),
      },
    );
    assert.equal(r.result.isError, true);
    assert.match(r.result.content[0].text, /expired/);
    const still = await modernCall(t.url, key, 'memory_get', { id });
    assert.equal(still.result.isError, undefined);
    const [last] = await t.audit.log.query({ tool: 'memory_delete', limit: 1, newest: true });
    assert.ok(last!.reasons.includes('confirmation-expired'));
  });
});
