import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallNotification } from '../tools/index.js';
import { createCallRelay } from './relay.js';

const progress = (n: number): CallNotification => ({
  method: 'notifications/progress',
  params: { progressToken: 't', progress: n },
});

describe('the relay of one running call', () => {
  it('holds what arrives before the stream attaches, then sends it in order, then the rest', async () => {
    const relay = createCallRelay((v) => v);
    relay.notify(progress(1));
    relay.notify(progress(2));
    const sent: unknown[] = [];
    relay.attach({ notify: (n) => (sent.push(n.params.progress), Promise.resolve()) });
    relay.notify(progress(3));
    assert.deepEqual(sent, [1, 2, 3]);
  });

  it('holds a bounded number and drops the rest instead of buffering without end', () => {
    const relay = createCallRelay((v) => v);
    for (let i = 0; i < 1000; i++) relay.notify(progress(i));
    const sent: unknown[] = [];
    relay.attach({ notify: (n) => (sent.push(n), Promise.resolve()) });
    assert.equal(sent.length, 64);
    assert.equal(relay.dropped, 1000 - 64);
  });

  it('sends nothing once the call is over', () => {
    const relay = createCallRelay((v) => v);
    const sent: unknown[] = [];
    relay.attach({ notify: (n) => (sent.push(n), Promise.resolve()) });
    relay.close();
    relay.notify(progress(1));
    assert.deepEqual(sent, []);
  });

  it('redacts every notification with the gateway redactor', () => {
    const relay = createCallRelay(
      <T>(v: T) => JSON.parse(JSON.stringify(v).replaceAll('s3cret', '[redacted]')) as T,
    );
    const sent: CallNotification[] = [];
    relay.attach({ notify: (n) => (sent.push(n), Promise.resolve()) });
    relay.notify({ method: 'notifications/message', params: { level: 'info', data: 'token s3cret' } });
    assert.equal(sent[0]?.params.data, 'token [redacted]');
  });
});

describe('input requests of a running call', () => {
  const elicit = { method: 'elicitation/create', params: { message: 'Name?' }, upstream: 'crm' } as const;

  it('wait for the stream, then go to the person through it', async () => {
    const relay = createCallRelay((v) => v);
    const answer = relay.requestInput(elicit);
    relay.attach({ notify: () => Promise.resolve(), input: (r) => Promise.resolve({ asked: r.upstream }) });
    assert.deepEqual(await answer, { asked: 'crm' });
  });

  it('are refused when the caller cannot be asked, or once the call is over', async () => {
    const relay = createCallRelay((v) => v);
    relay.attach({ notify: () => Promise.resolve() });
    await assert.rejects(relay.requestInput(elicit), /cannot be asked/);
    relay.close();
    await assert.rejects(relay.requestInput(elicit), /over/);
  });
});
