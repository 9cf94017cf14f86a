import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuditLog } from './audit-log.js';
import { closeInterruptedCalls, type EffectState } from './close-interrupted.js';
import { createMemoryAuditStore } from './memory-store.js';
import { verifyAuditStore } from './verify-store.js';
import { makeTestKeys, sampleEntry } from './test-support.js';

describe('closing calls a previous process left interrupted', () => {
  it('gives every open intent one tool-call record, interrupted, saying what is known of its effect', async () => {
    const keys = makeTestKeys();
    const store = createMemoryAuditStore();
    const log = await createAuditLog({ store, keys });
    const intent = (id: string, upstream?: string) =>
      sampleEntry(2, {
        correlationId: id,
        event: 'tool-intent',
        outcome: 'pending',
        tool: upstream ? `${upstream}__append` : 'memory_save',
        ...(upstream ? { upstream } : {}),
      });
    await log.append(intent('saved'));
    await log.append(intent('finished'));
    await log.append(sampleEntry(3, { correlationId: 'finished' }));
    await log.append(intent('lost'));
    await log.append(intent('remote', 'ledger'));

    const states: Record<string, EffectState> = {
      saved: 'committed',
      lost: 'not-committed',
      remote: 'unknown',
    };
    const asked: string[] = [];
    const closed = await closeInterruptedCalls({
      log,
      store,
      effectOf: async (r) => {
        asked.push(r.correlationId);
        return states[r.correlationId]!;
      },
    });
    assert.equal(closed, 3);
    assert.deepEqual(asked, ['saved', 'lost', 'remote']);
    const closing = store.records.slice(-3);
    assert.deepEqual(
      closing.map((r) => [r.correlationId, r.event, r.outcome, r.errorCode]),
      [
        ['saved', 'tool-call', 'interrupted', 'effect-committed'],
        ['lost', 'tool-call', 'interrupted', 'effect-not-committed'],
        ['remote', 'tool-call', 'interrupted', 'effect-unknown'],
      ],
    );
    // The closing record names the call as its intent did: who, what, with which arguments.
    const [first] = closing;
    assert.equal(first!.principal, 'alice');
    assert.equal(first!.tool, 'memory_save');
    assert.deepEqual(first!.args, intent('saved').args);
    assert.deepEqual(first!.reasons, ['interrupted']);
    assert.equal(closing[2]!.upstream, 'ledger');

    // Nothing is left open, a second pass writes nothing, and the chain verifies.
    assert.deepEqual(await store.openIntents(), []);
    assert.equal(await closeInterruptedCalls({ log, store, effectOf: async () => 'unknown' }), 0);
    assert.equal((await verifyAuditStore(store, keys.publicKey)).ok, true);
    await log.close();
  });
});
