import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditTip, legacyToolCall, recordsAfter } from '../helpers/audit-records.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/*
 * Whatever a caller names goes into its audit record: the tool's name and the argument keys (the
 * shape). Unbounded, one call of a megabyte writes a megabyte to the log and a record no SIEM
 * takes as one syslog message (64 KiB). The legitimate call beside it is recorded as before.
 */
describe('a caller cannot make its audit record as large as its request', () => {
  let t: TestGateway;
  let key: string;
  before(async () => {
    t = await startTestGateway();
    key = (await t.key()).key;
  });
  after(() => t.close());

  async function callAndRecord(name: unknown, args: unknown) {
    const tip = await auditTip(t);
    const res = await postMcp(t.url, legacyToolCall(name, args), { key });
    const rpc = await readRpc(res);
    const records = await recordsAfter(t, tip, 'tool-call');
    assert.equal(records.length, 1, 'the call is recorded once');
    return { rpc, record: records[0]! };
  }

  it('a 300 000-character tool name is refused as malformed and not copied into the record', async () => {
    const { rpc, record } = await callAndRecord('x'.repeat(300_000), {});
    assert.equal(rpc.error?.code, -32602);
    assert.match(rpc.error?.message ?? '', /longer than 512 characters/);
    assert.equal(record.tool, undefined);
    assert.ok(JSON.stringify(record).length < 4096, `record is ${JSON.stringify(record).length} chars`);
  });

  it('50 000 argument keys, or one key of 100 000 characters, give a bounded shape', async () => {
    const many = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 1]));
    const first = await callAndRecord('memory_save', many);
    assert.ok(
      JSON.stringify(first.record).length < 16_384,
      `record is ${JSON.stringify(first.record).length}`,
    );
    const shape = first.record.args?.shape as Record<string, string>;
    assert.equal(shape['…'], `keys(${50_000 - 256})`, 'what is past the budget is counted');

    const long = await callAndRecord('memory_save', { ['p'.repeat(100_000)]: 'hunter2', content: 'x' });
    assert.ok(JSON.stringify(long.record).length < 4096);
    assert.deepEqual(long.record.args?.shape, { content: 'string(1)', '…': 'keys(1)' });
  });

  it('a legitimate call is recorded with its tool name and full shape', async () => {
    const { rpc, record } = await callAndRecord('memory_save', { content: 'hello', tags: ['a', 'b'] });
    assert.equal(rpc.error, undefined);
    assert.equal(record.tool, 'memory_save');
    assert.deepEqual(record.args?.shape, { content: 'string(5)', tags: 'array(2)' });
  });
});
