import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { pino } from 'pino';
import { verifyAuditStore } from '../../src/audit/index.js';
import { createApiKey } from '../../src/auth/index.js';
import { startGateway } from '../../src/gateway/index.js';
import { postMcp, readRpc, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';

const call = (name: string, args: unknown, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('the audit log under a mixed concurrent load', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({
      env: {
        PORTCULLIS_RATE_LIMITS__CREDENTIAL__POINTS: '100000',
        PORTCULLIS_RATE_LIMITS__CONCURRENCY__MAX_IN_FLIGHT: '1000',
      },
    });
  });
  after(() => t.close());

  it('leaves exactly one record per call, allowed, denied, invalid and failed alike, and the chain verifies', async () => {
    const full = await t.key({ owner: 'alice' });
    const readOnly = await t.key({ owner: 'bob', scopes: ['memory:read'] });
    const kinds = [
      () => postMcp(t.url, call('memory_save', { content: 'load test note' }), { key: full.key }), // allowed
      () => postMcp(t.url, call('memory_save', { content: 'nope' }), { key: readOnly.key }), // denied: 403
      () => postMcp(t.url, call('memory_save', { content: 7 }), { key: full.key }), // invalid arguments
      () => postMcp(t.url, call('memory_get', { id: 'note_AAAAAAAAAAAAAAAAAAAAAA' }), { key: full.key }), // fails: no such note
      () => postMcp(t.url, call('no_such_tool', {}), { key: full.key }), // unknown tool
    ];
    const rounds = 40;
    const responses = await Promise.all(
      Array.from({ length: rounds * kinds.length }, async (_, i) => {
        const res = await kinds[i % kinds.length]!();
        await res.text();
        return res.status;
      }),
    );
    assert.equal(responses.filter((s) => s === 403).length, rounds);
    assert.ok(responses.every((s) => s === 200 || s === 403));

    const records = await t.audit.log.query({ limit: 100_000 });
    const toolCalls = records.filter((r) => r.event === 'tool-call');
    assert.equal(toolCalls.length, rounds * kinds.length);
    const outcomes = new Map<string, number>();
    for (const r of toolCalls) outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(outcomes), {
      ok: rounds,
      denied: rounds,
      invalid: rounds * 2,
      failed: rounds,
    });
    const denied = toolCalls.find((r) => r.outcome === 'denied')!;
    assert.deepEqual(denied.reasons, ['scope-missing']);
    assert.equal(denied.scope, 'memory:write');
    assert.equal(denied.principal, 'bob');
    assert.equal(denied.credentialId, readOnly.id);
    const ok = toolCalls.find((r) => r.outcome === 'ok')!;
    assert.equal(ok.args?.payload, undefined, 'arguments are not stored by default');
    assert.deepEqual(ok.args?.shape, { content: 'string(14)' });
    assert.match(ok.args?.hash ?? '', /^[0-9a-f]{64}$/);

    const verdict = await verifyAuditStore(t.audit.store, t.audit.keys.publicKey);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
  });

  it('records failed authentication too', async () => {
    const before = (await t.audit.log.query({ limit: 100_000 })).length;
    const res = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { key: `pcs_aaaaaaaaaaaaaaaa_${'B'.repeat(43)}` },
    );
    assert.equal(res.status, 401);
    const records = await t.audit.log.query({ limit: 100_000 });
    assert.equal(records.length, before + 1);
    const last = records[records.length - 1]!;
    assert.equal(last.event, 'authentication');
    assert.equal(last.outcome, 'unauthenticated');
    assert.deepEqual(last.reasons, ['credential-unknown']);
  });
});

describe('rate limits', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
  });
  after(() => t.close());

  it('the 61st call in a minute is refused with 429, Retry-After and RateLimit fields; another key is still served', async () => {
    const noisy = await t.key({ owner: 'noisy' });
    const quiet = await t.key({ owner: 'quiet' });
    for (let i = 0; i < 60; i++) {
      const res = await postMcp(t.url, call('memory_search', { query: 'x' }), { key: noisy.key });
      assert.equal(res.status, 200, `call ${i + 1}`);
      if (i === 0) assert.match(res.headers.get('ratelimit-policy') ?? '', /"credential";q=60;w=60/);
      await res.text();
    }
    const refused = await postMcp(t.url, call('memory_search', { query: 'x' }), { key: noisy.key });
    assert.equal(refused.status, 429);
    const retry = Number(refused.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.match(refused.headers.get('ratelimit') ?? '', /"credential";r=0;t=\d+/);
    const body = (await refused.json()) as { error: { message: string } };
    assert.match(body.error.message, /Rate limit exceeded for this credential: retry in \d+ seconds?\./);

    const other = await postMcp(t.url, call('memory_search', { query: 'x' }), { key: quiet.key });
    assert.equal(other.status, 200);

    const records = await t.audit.log.query({ principal: 'noisy', limit: 1000 });
    const last = records[records.length - 1]!;
    assert.equal(last.outcome, 'rate-limited');
    assert.deepEqual(last.reasons, ['rate-limit-credential']);
  });

  it('an SDK client over the limit gets an error that states the retry time', async () => {
    const k = await t.key({ owner: 'sdk-noisy' });
    const client = new Client({ name: 'limit-test', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(t.url), {
        requestInit: { headers: { authorization: `Bearer ${k.key}` } },
      }),
    );
    try {
      for (let i = 0; i < 60; i++)
        await client.callTool({ name: 'memory_search', arguments: { query: 'x' } });
      await assert.rejects(
        client.callTool({ name: 'memory_search', arguments: { query: 'x' } }),
        /retry in \d+ second/,
      );
    } finally {
      await client.close();
    }
  });

  it('repeated bad credentials from one address are refused with 429 before they are checked', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await postMcp(
        t.url,
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        { key: `pcs_bbbbbbbbbbbbbbbb_${'C'.repeat(43)}` },
      );
      await res.text();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(401));
    assert.equal(statuses[21], 429);
  });
});

describe('audit and rate limits switched off', () => {
  it('serves calls, writes no audit file, warns at start and has no audit API', async () => {
    const dataDir = tempDir();
    const gw = await startGateway({
      dataDir,
      port: 0,
      host: '127.0.0.1',
      env: {
        PORTCULLIS_METRICS__PORT: '0',
        PORTCULLIS_AUDIT__ENABLED: 'false',
        PORTCULLIS_RATE_LIMITS__ENABLED: 'false',
      },
      logger: pino({ level: 'silent' }),
    });
    try {
      assert.equal(gw.audit, undefined);
      assert.ok(gw.warnings.some((w) => w.includes('audit.enabled is false')));
      assert.ok(gw.warnings.some((w) => w.includes('rateLimits.enabled is false')));
      const { key } = await createApiKey(
        gw.storage.apiKeys,
        { owner: 'quiet', label: '', scopes: ['memory:read'], expiresAt: null },
        new Date(),
      );
      for (let i = 0; i < 70; i++) {
        const res = await postMcp(gw.mcpUrl.href, call('memory_search', { query: 'x' }), { key });
        assert.equal(res.status, 200);
        await res.text();
      }
      assert.equal(fs.existsSync(path.join(dataDir, 'audit.db')), false);
      assert.equal((await fetch(new URL('/admin/audit', gw.url))).status, 404);
    } finally {
      await gw.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the OAuth endpoints', () => {
  it('are limited per client address, with a 429 and Retry-After', async () => {
    const t = await startTestGateway({ env: { PORTCULLIS_RATE_LIMITS__OAUTH__POINTS: '3' } });
    try {
      const url = new URL('/oauth/jwks', t.url);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(url);
        await res.text();
        statuses.push(res.status);
        if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) >= 1);
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      // /mcp is limited per credential, not by this tier
      const { key } = await t.key();
      assert.equal((await postMcp(t.url, call('memory_search', { query: 'x' }), { key })).status, 200);
    } finally {
      await t.close();
    }
  });
});

describe('secrets never reach the audit log, the logs or a result', () => {
  let t: TestGateway;
  const lines: string[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    t = await startTestGateway({
      logger: pino({ level: 'debug' }, sink),
      env: { PORTCULLIS_AUDIT__FULL_PAYLOAD_TOOLS: 'memory_save' },
    });
  });
  after(() => t.close());

  it('a key sent as an argument, stored and read back, appears nowhere in clear', async () => {
    const { key } = await t.key();
    const aws = 'AKIAIOSFODNN7EXAMPLE';
    const content = `my key is ${key} and aws ${aws} secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`;
    const saved = await readRpc(await postMcp(t.url, call('memory_save', { content }), { key }));
    const id = saved.result.structuredContent.id as string;
    const got = await readRpc(await postMcp(t.url, call('memory_get', { id }), { key }));
    const shown = JSON.stringify(got.result);
    assert.ok(!shown.includes(key), 'the API key is redacted from the result');
    assert.ok(!shown.includes(aws), 'the AWS key id is redacted from the result');
    assert.match(shown, /REDACTED/);
    // an invalid and an unauthenticated call put the key in other code paths
    await (await postMcp(t.url, call('memory_save', { content: key, bogus: key }), { key })).text();
    await (await postMcp(t.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { key: `${key}x` })).text();

    await t.audit.log.close();
    // pcs_<16-char id>_<43-char secret>: the secret may itself contain '_', so slice, not split.
    const secret = key.slice('pcs_'.length + 17);
    assert.equal(secret.length, 43);
    for (const file of fs.readdirSync(t.dataDir).filter((f) => f.startsWith('audit.db'))) {
      const bytes = fs.readFileSync(path.join(t.dataDir, file));
      assert.equal(bytes.includes(secret), false, `${file} holds the key`);
      assert.equal(bytes.includes(aws), false, `${file} holds the AWS key`);
    }
    const logs = lines.join('');
    assert.ok(logs.length > 0);
    assert.equal(logs.includes(secret), false, 'a log line holds the key');
  });
});

describe('metrics and the admin audit API', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
  });
  after(() => t.close());

  it('serves Prometheus metrics on their own listener, not on the MCP one', async () => {
    const { key } = await t.key();
    await (await postMcp(t.url, call('memory_search', { query: 'x' }), { key })).text();
    const text = await (await fetch(t.gw.metricsUrl!)).text();
    assert.match(text, /portcullis_requests_total\{route="\/mcp",status="200"\} \d+/);
    assert.match(text, /portcullis_stage_duration_seconds_bucket\{le="[^"]+",stage="audit"\}/);
    assert.match(text, /portcullis_decisions_total\{effect="allow",reason="scope-granted"\}/);
    assert.equal((await fetch(new URL('/metrics', t.url))).status, 404);
  });

  it('answers audit queries to a key with admin:audit, and 403 to others', async () => {
    const admin = await t.key({ owner: 'root', scopes: ['admin:audit'] });
    const user = await t.key({ owner: 'carol' });
    await (await postMcp(t.url, call('memory_search', { query: 'x' }), { key: user.key })).text();
    const res = await fetch(new URL('/admin/audit?principal=carol&since=1h&tool=memory_search', t.url), {
      headers: { authorization: `Bearer ${admin.key}` },
    });
    assert.equal(res.status, 200);
    const records = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { principal: string; tool: string });
    assert.ok(records.length >= 1);
    assert.ok(records.every((r) => r.principal === 'carol' && r.tool === 'memory_search'));

    const forbidden = await fetch(new URL('/admin/audit', t.url), {
      headers: { authorization: `Bearer ${user.key}` },
    });
    assert.equal(forbidden.status, 403);
    const bad = await fetch(new URL('/admin/audit?since=yesterday', t.url), {
      headers: { authorization: `Bearer ${admin.key}` },
    });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(new URL('/admin/audit', t.url))).status, 401);
  });
});
