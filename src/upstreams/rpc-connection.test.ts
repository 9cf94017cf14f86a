import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { ChildHandle, ExitInfo } from '../sandbox/index.js';
import { isUpstreamError } from './errors.js';
import { createRpcConnection, type Channel, type RpcMessage } from './rpc-connection.js';
import { createStdioChannel } from './stdio-channel.js';

/** A process stand-in: what the gateway writes arrives on `written`; `say` speaks for the server. */
function fakeChild() {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let exit!: (e: ExitInfo) => void;
  const child: ChildHandle = {
    pid: 1,
    stdin,
    stdout,
    stderr: new PassThrough(),
    exited: new Promise((resolve) => (exit = resolve)),
    kill: () => exit({ code: null, signal: 'SIGTERM' }),
  };
  const written: any[] = [];
  stdin.on('data', (b: Buffer) =>
    b
      .toString()
      .split('\n')
      .filter(Boolean)
      .forEach((l) => written.push(JSON.parse(l))),
  );
  return { child, written, say: (line: string) => stdout.write(line), exit };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the upstream JSON-RPC connection over stdio', () => {
  it('matches responses to requests, across chunk boundaries, ignoring non-JSON lines', async () => {
    const f = fakeChild();
    const conn = createRpcConnection(createStdioChannel(f.child, 1024), { upstream: 'u' });
    const p = conn.request('tools/list', undefined, { timeoutMs: 5000 });
    await tick();
    assert.equal(f.written[0].method, 'tools/list');
    f.say('starting up...\n{"jsonrpc":"2.0","id":1,"res');
    f.say('ult":{"tools":[]}}\n');
    assert.deepEqual(await p, { tools: [] });
  });

  it('refuses sampling, roots and elicitation requests with -32601, answers ping', async () => {
    const f = fakeChild();
    const denied: string[] = [];
    createRpcConnection(createStdioChannel(f.child, 1024), {
      upstream: 'u',
      onDeniedRequest: (m) => denied.push(m),
    });
    f.say('{"jsonrpc":"2.0","id":"s1","method":"sampling/createMessage","params":{}}\n');
    f.say('{"jsonrpc":"2.0","id":"r1","method":"roots/list"}\n');
    f.say('{"jsonrpc":"2.0","id":"e1","method":"elicitation/create","params":{}}\n');
    f.say('{"jsonrpc":"2.0","id":"p1","method":"ping"}\n');
    await tick();
    await tick();
    assert.deepEqual(denied, ['sampling/createMessage', 'roots/list', 'elicitation/create']);
    assert.equal(f.written.find((m) => m.id === 's1').error.code, -32601);
    assert.deepEqual(f.written.find((m) => m.id === 'p1').result, {});
  });

  it('an answer over the size cap fails its request without being buffered, and the connection stays up', async () => {
    const f = fakeChild();
    const conn = createRpcConnection(createStdioChannel(f.child, 100), { upstream: 'u' });
    const big = conn.request('tools/call', {}, { timeoutMs: 5000 });
    const small = conn.request('tools/call', {}, { timeoutMs: 5000 });
    await tick();
    f.say(`{"result":{"content":[{"type":"text","text":"${'x'.repeat(500)}"}]},"jsonrpc":"2.0","id":1}\n`);
    await assert.rejects(big, (e: Error) => isUpstreamError(e) && e.code === 'upstream-message-too-large');
    f.say('{"jsonrpc":"2.0","id":2,"result":{"ok":true}}\n');
    assert.deepEqual(await small, { ok: true });
  });

  it('cancellation sends notifications/cancelled and rejects at once', async () => {
    const f = fakeChild();
    const conn = createRpcConnection(createStdioChannel(f.child, 1024), { upstream: 'u' });
    const ac = new AbortController();
    const p = conn.request('tools/call', {}, { timeoutMs: 5000, signal: ac.signal });
    await tick();
    ac.abort();
    await assert.rejects(p, (e: Error) => isUpstreamError(e) && e.code === 'upstream-cancelled');
    await tick();
    assert.deepEqual(f.written[1], {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 1, reason: 'cancelled by the client' },
    });
  });

  it('a process that exits fails every pending request with a clear error', async () => {
    const f = fakeChild();
    const conn = createRpcConnection(createStdioChannel(f.child, 1024), { upstream: 'files' });
    const p = conn.request('tools/call', {}, { timeoutMs: 5000 });
    f.exit({ code: 1, signal: null });
    await assert.rejects(p, /"files" stopped while handling the call/);
    assert.match(await conn.closed, /exited/);
  });

  it('progress goes only to the request that carries the token, and the token rides in _meta', async () => {
    const f = fakeChild();
    const dropped: string[] = [];
    const conn = createRpcConnection(createStdioChannel(f.child, 4096), {
      upstream: 'u',
      onDroppedNotification: (_m, why) => dropped.push(why),
    });
    const a: unknown[] = [];
    const b: unknown[] = [];
    const pa = conn.request(
      'tools/call',
      { name: 'x' },
      { timeoutMs: 5000, forCaller: true, progressToken: 'tok-a', onNotification: (_m, p) => a.push(p) },
    );
    const pb = conn.request(
      'tools/call',
      { name: 'y' },
      { timeoutMs: 5000, forCaller: true, progressToken: 'tok-b', onNotification: (_m, p) => b.push(p) },
    );
    await tick();
    assert.deepEqual(f.written[0].params, { name: 'x', _meta: { progressToken: 'tok-a' } });
    f.say(
      '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok-b","progress":1}}\n',
    );
    f.say(
      '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"guessed","progress":1}}\n',
    );
    f.say('{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}\n');
    f.say('{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"whose?"}}\n');
    f.say('{"jsonrpc":"2.0","id":1,"result":{}}\n');
    f.say(
      '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"only b waits"}}\n',
    );
    f.say(
      '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok-a","progress":2}}\n',
    );
    f.say('{"jsonrpc":"2.0","id":2,"result":{}}\n');
    await Promise.all([pa, pb]);
    assert.deepEqual(a, []);
    assert.deepEqual(b, [
      { progressToken: 'tok-b', progress: 1 },
      { level: 'info', data: 'only b waits' },
    ]);
    assert.deepEqual(dropped, ['unknown-token', 'unknown-token', 'unattributable', 'unknown-token']);
  });

  it('over a transport with per-request streams, a message counts only on its own request’s stream', async () => {
    const channel: Channel = {
      perRequestStreams: true,
      onMessage: undefined,
      onClose: undefined,
      async send(m) {
        if (typeof m.id === 'number')
          setImmediate(() => deliver({ jsonrpc: '2.0', id: m.id, result: {} }, m.id as number));
      },
      close: async () => {},
    };
    const conn = createRpcConnection(channel, { upstream: 'u' });
    const deliver = (m: RpcMessage, origin?: number) => channel.onMessage?.(m, origin);
    const got: unknown[] = [];
    const p = conn.request(
      'tools/call',
      {},
      { timeoutMs: 5000, progressToken: 't1', onNotification: (_m, params) => got.push(params) },
    );
    // Alone in flight, but not on its stream: not its message. Its own token on another stream: not its progress.
    channel.onMessage?.({
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { level: 'info', data: 'x' },
    });
    channel.onMessage?.(
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't1', progress: 1 } },
      99,
    );
    channel.onMessage?.(
      { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'mine' } },
      1,
    );
    await p;
    assert.deepEqual(got, [{ level: 'info', data: 'mine' }]);
  });

  it('over stdio, a question goes to the one caller request in flight; the gateway’s own requests and a waiting one do not count', async () => {
    const f = fakeChild();
    const conn = createRpcConnection(createStdioChannel(f.child, 4096), {
      upstream: 'u',
      relayed: new Set(['elicitation/create']),
    });
    const asked: string[] = [];
    let answerFirst!: (v: Record<string, unknown>) => void;
    // The gateway's own re-listing is in flight throughout: it has no caller and asks nobody.
    const listing = conn.request('tools/list', {}, { timeoutMs: 5000 });
    const a = conn.request(
      'tools/call',
      { name: 'a' },
      {
        timeoutMs: 5000,
        forCaller: true,
        onInputRequest: () => (asked.push('a'), new Promise((resolve) => (answerFirst = resolve))),
      },
    );
    await tick();
    f.say('{"jsonrpc":"2.0","id":"q1","method":"elicitation/create","params":{"message":"one?"}}\n');
    await tick();
    assert.deepEqual(asked, ['a']);
    // a now waits for its caller; b is the one request in flight that can be asking.
    const b = conn.request(
      'tools/call',
      { name: 'b' },
      {
        timeoutMs: 5000,
        forCaller: true,
        onInputRequest: () => (asked.push('b'), Promise.resolve({ action: 'decline' })),
      },
    );
    await tick();
    f.say('{"jsonrpc":"2.0","id":"q2","method":"elicitation/create","params":{"message":"two?"}}\n');
    await tick();
    assert.deepEqual(asked, ['a', 'b']);
    // With a answered, two caller requests are in flight: a question now is nobody's.
    answerFirst({ action: 'accept', content: {} });
    await tick();
    f.say('{"jsonrpc":"2.0","id":"q3","method":"elicitation/create","params":{"message":"three?"}}\n');
    await tick();
    assert.deepEqual(asked, ['a', 'b']);
    const refused = f.written.find((m) => m.id === 'q3');
    assert.equal(refused?.error?.code, -32601);
    assert.deepEqual(f.written.find((m) => m.id === 'q1')?.result, { action: 'accept', content: {} });
    f.say('{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}\n');
    f.say('{"jsonrpc":"2.0","id":2,"result":{}}\n{"jsonrpc":"2.0","id":3,"result":{}}\n');
    await Promise.all([listing, a, b]);
  });

  it('2026-07-28: every request carries the envelope, a request adds its own part, an error keeps its code and data', async () => {
    const f = fakeChild();
    const conn = createRpcConnection(createStdioChannel(f.child, 4096), { upstream: 'u' });
    conn.setEnvelope({ v: '2026-07-28', caps: {} });
    const listing = conn.request('tools/list', undefined, { timeoutMs: 5000 });
    const call = conn.request(
      'tools/call',
      { name: 'x', _meta: { kept: 1 } },
      { timeoutMs: 5000, progressToken: 'ours', meta: { caps: { sampling: {} }, level: 'info' } },
    );
    await tick();
    assert.deepEqual(f.written[0].params, { _meta: { v: '2026-07-28', caps: {} } });
    assert.deepEqual(f.written[1].params, {
      name: 'x',
      _meta: { kept: 1, v: '2026-07-28', caps: { sampling: {} }, level: 'info', progressToken: 'ours' },
    });
    f.say('{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}\n');
    f.say(
      '{"jsonrpc":"2.0","id":2,"error":{"code":-32021,"message":"needs sampling","data":{"requiredCapabilities":{"sampling":{}}}}}\n',
    );
    await listing;
    await assert.rejects(call, (err: unknown) => {
      assert.ok(isUpstreamError(err));
      assert.deepEqual(err.rpc, { code: -32021, data: { requiredCapabilities: { sampling: {} } } });
      return true;
    });
    // Back to 2025: no envelope, and `meta` alone adds nothing.
    conn.setEnvelope(undefined);
    void conn.request('ping', undefined, { timeoutMs: 5000, meta: { caps: {} } }).catch(() => {});
    await tick();
    assert.equal(f.written[2].params, undefined);
    await conn.close();
  });
});
