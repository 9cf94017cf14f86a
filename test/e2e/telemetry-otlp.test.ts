import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postMcp, readRpc, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { TEST_CERT } from '../helpers/oauth-tls.js';
import { spanAttributes, startOtlpCollector, until } from '../helpers/otlp-collector.js';

const call = (name: string, args: unknown, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

const TOKEN = 'otlp-collector-token-5b1f0c9e';

/** The OTLP section of a config, for a collector at `origin`. */
const otlpConfig = (origin: string, extra: string[] = []) =>
  [
    'telemetry:',
    '  otlp:',
    '    enabled: true',
    `    endpoint: ${origin}`,
    ...extra.map((l) => `    ${l}`),
    '',
  ].join('\n');

describe('OpenTelemetry over OTLP/HTTP: a trace per call, a span per stage, and call metrics', () => {
  let t: TestGateway;
  let collector: Awaited<ReturnType<typeof startOtlpCollector>>;

  before(async () => {
    collector = await startOtlpCollector();
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, 'otlp-ca.pem'), TEST_CERT);
    t = await startTestGateway({
      dataDir,
      env: { OTLP_TOKEN: TOKEN },
      config: otlpConfig(collector.origin, [
        'allowPrivateAddress: true',
        'ca: otlp-ca.pem',
        'exportIntervalMs: 200',
        'headers:',
        '  authorization: env:OTLP_TOKEN',
      ]),
    });
  });
  after(async () => {
    await t?.close();
    await collector?.close();
  });

  it('exports a tool call as one trace: a root span for the call and a child span for each stage, in order', async () => {
    const { key } = await t.key({ owner: 'alice' });
    const res = await postMcp(t.url, call('memory_save', { content: 'a traced note' }), { key });
    assert.equal(res.status, 200);
    await readRpc(res);
    const root = await until('the call span', () =>
      collector.spans().find((s) => s.name === 'tools/call memory_save'),
    );
    const attrs = spanAttributes(root);
    assert.equal(attrs['mcp.method.name'], 'tools/call');
    assert.equal(attrs['gen_ai.tool.name'], 'memory_save');
    assert.equal(attrs['portcullis.decision'], 'allow');
    assert.equal(attrs['portcullis.outcome'], 'ok');
    assert.equal(attrs['portcullis.tool.class'], 'write');
    assert.ok((attrs['portcullis.reasons'] as string[]).includes('scope-granted'));
    assert.equal(typeof attrs['portcullis.correlation_id'], 'string');
    // The record it belongs to carries the same correlation id.
    const records = await t.audit.store.readFrom(1, 100);
    assert.ok(
      records.some((r) => r.correlationId === attrs['portcullis.correlation_id'] && r.tool === 'memory_save'),
    );

    const stages = await until('every stage span', () => {
      const kids = collector
        .spans()
        .filter((s) => s.traceId === root.traceId && s.parentSpanId === root.spanId);
      return kids.length >= 15 ? kids : undefined;
    });
    const byStart = [...stages].sort((a, b) =>
      BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1,
    );
    assert.deepEqual(
      byStart.map((s) => s.name),
      [
        'read call',
        'take refusal',
        'check shape',
        'rate limit',
        'resolve tool',
        'decide',
        'validate',
        'confirm',
        'audit intent',
        'execute',
        'check output',
        'secure output',
        'quarantine',
        'record taint',
        'finish',
      ],
    );
    for (const s of stages) assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
    const resource = collector.posts.find((p) => p.path === '/v1/traces')!.body.resourceSpans[0].resource;
    assert.ok(
      resource.attributes.some((a: any) => a.key === 'service.name' && a.value.stringValue === 'portcullis'),
    );
  });

  it('sends the collector token from its secret reference, over the egress-guarded connection', async () => {
    const post = await until('an export', () => collector.posts[0]);
    assert.equal(post.headers.authorization, TOKEN);
    assert.match(String(post.headers['content-type']), /application\/json/);
  });

  it('exports a denial with its reasons, and counts calls, denials and stage latency as metrics', async () => {
    const { key } = await t.key({ owner: 'bob', scopes: ['memory:read'] });
    const res = await postMcp(t.url, call('memory_save', { content: 'not allowed' }, 2), { key });
    assert.equal(res.status, 403);
    await res.text();
    const denied = await until('the denied call span', () =>
      collector
        .spans()
        .find(
          (s) => s.name === 'tools/call memory_save' && spanAttributes(s)['portcullis.decision'] === 'deny',
        ),
    );
    assert.ok((spanAttributes(denied)['portcullis.reasons'] as string[]).includes('scope-missing'));

    const metrics = await until('the metrics', () => {
      const m = collector.metrics();
      const denials = m.get('portcullis.denials');
      return denials && m.get('portcullis.calls') && m.get('portcullis.stage.duration') ? m : undefined;
    });
    const points = (name: string) =>
      metrics.get(name)!.flatMap((m: any) => (m.sum ?? m.histogram).dataPoints);
    assert.ok(
      points('portcullis.denials').some((p: any) =>
        p.attributes.some(
          (a: any) => a.key === 'portcullis.reason' && a.value.stringValue === 'scope-missing',
        ),
      ),
    );
    assert.ok(
      points('portcullis.stage.duration').some((p: any) =>
        p.attributes.some((a: any) => a.key === 'portcullis.stage' && a.value.stringValue === 'execute'),
      ),
    );
    assert.equal(metrics.get('portcullis.stage.duration')![0].unit, 'ms');
  });
});

describe('telemetry.otlp refuses, at start, a collector the egress guard would not reach', () => {
  it('a loopback collector without allowPrivateAddress: a clear config error naming the setting', async () => {
    await assert.rejects(
      startTestGateway({ config: otlpConfig('https://127.0.0.1:4318') }),
      (err: Error) =>
        /telemetry\.otlp\.endpoint/.test(err.message) &&
        /loopback/.test(err.message) &&
        /allowPrivateAddress/.test(err.message),
    );
  });

  it('a private-network collector by address, and a plain-http endpoint', async () => {
    await assert.rejects(startTestGateway({ config: otlpConfig('https://10.1.2.3:4318') }), /private/);
    await assert.rejects(
      startTestGateway({ config: otlpConfig('http://collector.example:4318') }),
      /endpoint/,
    );
  });

  it('on without an endpoint, or a header given as a value instead of a secret reference', async () => {
    await assert.rejects(
      startTestGateway({ config: ['telemetry:', '  otlp:', '    enabled: true', ''].join('\n') }),
      /endpoint is required/,
    );
    await assert.rejects(
      startTestGateway({
        config: otlpConfig('https://collector.example', ['headers:', '  authorization: Bearer abc']),
      }),
      /secret reference/,
    );
  });

  it('a header whose secret is not set names the header and the reference, never a value', async () => {
    await assert.rejects(
      startTestGateway({
        config: otlpConfig('https://collector.example', [
          'headers:',
          '  x-token: env:PORTCULLIS_TEST_UNSET_OTLP',
        ]),
      }),
      (err: Error) => /headers\.x-token/.test(err.message) && /PORTCULLIS_TEST_UNSET_OTLP/.test(err.message),
    );
  });
});

describe('telemetry off (the default) costs nothing', () => {
  it('a gateway started and used without telemetry never loads the OpenTelemetry SDK or exporters', async () => {
    const gateway = new URL('../../src/gateway/index.js', import.meta.url).href;
    const helper = new URL('../helpers/gateway.js', import.meta.url).href;
    // A child process, so that nothing this test file loaded counts: every module it resolves is
    // seen by a resolve hook, then a real call goes through the pipeline.
    const script = `
      import { registerHooks } from 'node:module';
      const seen = [];
      registerHooks({ resolve(spec, ctx, next) { if (spec.includes('@opentelemetry/')) seen.push(spec); return next(spec, ctx); } });
      await import(${JSON.stringify(gateway)});
      const { startTestGateway, postMcp } = await import(${JSON.stringify(helper)});
      const t = await startTestGateway();
      const { key } = await t.key();
      const res = await postMcp(t.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'memory_search', arguments: { query: 'x' } } }, { key });
      await res.text();
      await t.close();
      console.log(JSON.stringify({ status: res.status, seen: seen.filter((s) => !s.startsWith('@opentelemetry/api')) }));
    `;
    const { execFile } = await import('node:child_process');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout) =>
        err ? reject(new Error(err.message)) : resolve(stdout),
      ),
    );
    const { status, seen } = JSON.parse(out.trim().split('\n').at(-1)!) as { status: number; seen: string[] };
    assert.equal(status, 200);
    assert.deepEqual(seen, []);
  });
});

describe('a call a person confirms in a 2025 session is one trace, ended when the call ends', () => {
  it('has the stages before the question and after the answer, and the record’s decision', async () => {
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } =
      await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const { ElicitRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const { ACCEPT } = await import('../helpers/policy-clients.js');
    const collector = await startOtlpCollector();
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, 'otlp-ca.pem'), TEST_CERT);
    const t = await startTestGateway({
      dataDir,
      config: [
        'policy:',
        '  tools:',
        '    memory_delete: { approval: in-band }',
        otlpConfig(collector.origin, [
          'allowPrivateAddress: true',
          'ca: otlp-ca.pem',
          'exportIntervalMs: 200',
        ]),
      ].join('\n'),
    });
    const client = new Client(
      { name: 'otlp-session', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    try {
      client.setRequestHandler(ElicitRequestSchema, async () => ACCEPT);
      await client.connect(
        new StreamableHTTPClientTransport(new URL(t.url), {
          requestInit: { headers: { authorization: `Bearer ${(await t.key()).key}` } },
        }),
      );
      const saved = (await client.callTool({
        name: 'memory_save',
        arguments: { content: 'to delete' },
      })) as unknown as {
        structuredContent: { id: string };
      };
      const deleted = await client.callTool({
        name: 'memory_delete',
        arguments: { id: saved.structuredContent.id },
      });
      assert.deepEqual(deleted.structuredContent, { deleted: true });
      const root = await until('the confirmed call', () =>
        collector.spans().find((s) => s.name === 'tools/call memory_delete'),
      );
      const attrs = spanAttributes(root);
      assert.equal(attrs['portcullis.decision'], 'confirm');
      assert.equal(attrs['portcullis.outcome'], 'ok');
      assert.ok((attrs['portcullis.reasons'] as string[]).includes('confirmation-accepted'));
      const names = await until('the stages after the answer', () => {
        const kids = collector
          .spans()
          .filter((s) => s.parentSpanId === root.spanId)
          .map((s) => s.name);
        return kids.includes('finish') ? kids : undefined;
      });
      for (const stage of ['decide', 'confirm', 'audit intent', 'execute', 'finish'])
        assert.ok(names.includes(stage), stage);
      // The root span covers the whole call, the person's answer included.
      const execute = collector.spans().find((s) => s.parentSpanId === root.spanId && s.name === 'execute');
      assert.ok(BigInt(root.endTimeUnixNano) >= BigInt(execute.endTimeUnixNano));
    } finally {
      await client.close();
      await t.close();
      await collector.close();
    }
  });
});
