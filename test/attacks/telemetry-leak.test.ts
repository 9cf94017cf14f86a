import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { trustTestCertificate } from '../helpers/oauth-tls.js';
import { startOtlpCollector, until } from '../helpers/otlp-collector.js';

/*
 * Telemetry is a copy of what the gateway sees sent to another system, usually with weaker access
 * control than the audit log. The attack: get argument values, tool output or a secret into that
 * copy. A secret goes into a tool's arguments, comes back in its output, is used as an unknown
 * tool's name and is put in the audit-logged payload of a full-payload tool; none of it may appear
 * in any byte the exporter sends, while the calls themselves are exported.
 */

const SECRET = 'sk_live_TELEMETRY_CANARY_8c2f41d9e7';
const call = (name: string, args: unknown, id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('attack: a secret in arguments, output or names leaks into exported telemetry', () => {
  let t: TestGateway;
  let collector: Awaited<ReturnType<typeof startOtlpCollector>>;

  before(async () => {
    trustTestCertificate();
    collector = await startOtlpCollector();
    t = await startTestGateway({
      config: [
        'audit:',
        '  fullPayloadTools: ["memory_*"]',
        'telemetry:',
        '  otlp:',
        '    enabled: true',
        `    endpoint: ${collector.origin}`,
        '    allowPrivateAddress: true',
        '    exportIntervalMs: 200',
        '',
      ].join('\n'),
    });
  });
  after(async () => {
    await t?.close();
    await collector?.close();
  });

  it('never exports an argument value, an output text or a caller-chosen name', async () => {
    const { key } = await t.key({ owner: 'mallory' });
    const saved = await readRpc(
      await postMcp(t.url, call('memory_save', { title: SECRET, content: `the key is ${SECRET}` }, 1), {
        key,
      }),
    );
    assert.equal(saved.result?.isError, undefined, JSON.stringify(saved));
    const found = await readRpc(
      await postMcp(t.url, call('memory_search', { query: 'the key is' }, 2), { key }),
    );
    // The output does carry the secret back (it is the person's own note): the copy must not.
    assert.ok(JSON.stringify(found.result).includes('the key is'));
    const unknown = await readRpc(await postMcp(t.url, call(`${SECRET}_tool`, {}, 3), { key }));
    assert.ok(unknown.error ?? unknown.result?.isError);

    await until('the three calls exported', () => {
      const names = collector.spans().map((s) => s.name);
      return names.includes('tools/call memory_save') &&
        names.includes('tools/call memory_search') &&
        names.filter((n) => n === 'tools/call').length >= 1
        ? true
        : undefined;
    });
    await until('their metrics', () => (collector.metrics().get('portcullis.calls') ? true : undefined));
    await t.close();
    const everything = Buffer.concat(collector.posts.map((p) => p.raw)).toString('utf8');
    assert.ok(everything.length > 0);
    for (const needle of [SECRET, 'TELEMETRY_CANARY', 'the key is'])
      assert.equal(everything.includes(needle), false, `"${needle}" appeared in exported telemetry`);
  });
});
