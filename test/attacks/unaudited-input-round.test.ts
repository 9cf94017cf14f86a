// Attack: hand a caller's answers to an upstream's questions (a 2026-07-28 input_required round)
// while the audit log cannot commit. The retry of a parked call gave the caller's answers to the
// upstream's waiting questions first and committed the round's record after; when that commit
// failed the caller got "503, could not be recorded, retry" although the answers had already
// reached the upstream (no record of the round) and the parked state was spent, so the retry it
// was invited to make failed as an unknown state.
// Seen failing: with the audit database locked by another writer, the retry was answered 503
// and the upstream nevertheless received the answer `hunter2`.
//
// Fixed: the round is recorded first and the answers delivered only once it is
// (mcp/stages/call-tool.ts, `parked.holds` before `parked.resume`).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { eventually, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/modern-hostile-server.js');

type Rpc = { result?: any; error?: { code: number; message: string } };

async function call(
  t: TestGateway,
  key: string,
  name: string,
  args: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; body: Rpc }> {
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
          'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
        },
        ...extra,
      },
    }),
  });
  return { status: res.status, body: (await res.json()) as Rpc };
}

const text = (r: Rpc) => (r.result?.content ?? []).map((b: { text?: string }) => b.text ?? '').join('\n');
const ANSWER = { confirm: { action: 'accept', content: { password: 'hunter2' } } };

describe('attack: an input_required answer reaches the upstream while the audit log cannot commit', () => {
  let t: TestGateway;
  let key: string;
  const seen = async () =>
    JSON.parse(text((await call(t, key, 'one__seen', {})).body).match(/\{.*\}/s)![0]) as {
      inputResponses: unknown[];
    };

  before(async () => {
    t = await startTestGateway({
      config: upstreamsConfig([
        {
          name: 'one',
          stdio: { command: NODE, args: [FIXTURE] },
          protocol: '2026-07-28',
          tools: { '*': { class: 'read' } },
          pinning: 'trust-on-first-use',
        },
      ]),
    });
    key = (await t.key({ owner: 'alice', scopes: ['one:read'] })).key;
    await eventually(async () => {
      const r = (await call(t, key, 'one__seen', {})).body;
      return r.result && !r.result.isError ? true : undefined;
    }, 'the upstream to be served');
  });
  after(async () => t?.close());

  it('the answer stays in the gateway until the round is recorded, and the retry then completes', async () => {
    const first = (await call(t, key, 'one__flow', { tag: 'alice' })).body;
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    const retry = { requestState: first.result.requestState, inputResponses: ANSWER };
    const before = (await seen()).inputResponses.length;

    const lock = new Database(path.join(t.dataDir, 'audit.db'));
    lock.pragma('busy_timeout = 0');
    lock.exec('BEGIN IMMEDIATE');
    let refused;
    try {
      refused = await call(t, key, 'one__flow', { tag: 'alice' }, retry);
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(
      (await seen()).inputResponses.length,
      before,
      'no answer reached the upstream while the round could not be recorded',
    );

    // The legitimate use beside it: the retry the 503 invited completes, with the answer, once.
    const done = (await call(t, key, 'one__flow', { tag: 'alice' }, retry)).body;
    assert.equal(done.result?.resultType, 'complete', JSON.stringify(done));
    assert.match(text(done), /hunter2/);
    assert.equal((await seen()).inputResponses.length, before + 1);
  });
});
