import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createApiKey } from '../../src/auth/index.js';
import { openPostgresOAuthDatabase } from '../../src/oauth/index.js';
import { openPostgresStorage, type Storage } from '../../src/storage/index.js';
import { BUILT_IN_SCOPES } from '../../src/tools/index.js';
import { legacyToolCall } from '../helpers/audit-records.js';
import { runCli } from '../helpers/cli.js';
import { postMcp, readRpc } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { addUser, codeFlow, registerClient, tokenRequest } from '../helpers/oauth-gateway.js';
import { approvalLink, decideOnPage } from '../helpers/policy-approval.js';
import { startReplicas, type ReplicaSet } from '../helpers/replicas.js';

const ALICE = { name: 'alice', password: 'correct horse battery' };
/** The load phase: long enough for a few hundred calls on a loaded 2-core machine. */
const LOAD_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One answered (or cut) call as the client saw it. */
interface Seen {
  readonly status: number | 'cut';
  readonly requestId: string | null;
  readonly ok: boolean;
}

/**
 * Three `portcullis start` processes on one PostgreSQL schema and one Redis, behind a round-robin
 * load balancer, driven with real HTTP clients: state made on one replica holds on the others,
 * the audit chain stays one under concurrent load, and PostgreSQL, Redis and a replica are taken
 * away mid-run.
 */
describe('three replicas on one PostgreSQL and one Redis', () => {
  let set: ReplicaSet;
  let storage: Storage;
  let admin: pg.Client;
  let slowSite: Server;
  let slowUrl: string;

  const key = async (owner: string) => {
    const { record, key } = await createApiKey(
      storage.apiKeys,
      { owner, label: 'replicas', scopes: [...BUILT_IN_SCOPES], expiresAt: null },
      new Date(),
    );
    return { id: record.id, key };
  };
  const call = async (k: string, name: string, args: Record<string, unknown>, url = set.mcpUrl) => {
    const res = await postMcp(url, legacyToolCall(name, args), { key: k });
    const body =
      res.headers.get('content-type')?.includes('json') || res.status === 200 ? await readRpc(res) : {};
    return { res, body: body };
  };
  /** The tool-call records of these calls, by correlation id. */
  const toolCallRecords = async (credentialIds: readonly string[]) =>
    (
      await admin.query<{ correlation_id: string; outcome: string; credential_id: string }>(
        `SELECT correlation_id, outcome, credential_id FROM ${set.db.schema}.audit_records
          WHERE event = 'tool-call' AND credential_id = ANY($1)`,
        [credentialIds],
      )
    ).rows;

  /**
   * `workers` concurrent clients saving notes through the load balancer for `ms`, each key used
   * for at most 50 calls (the per-credential limit is 60/min), so every call is one the gateway
   * should answer with 200.
   */
  const load = async (ms: number, workers: number, during?: () => Promise<void>) => {
    const seen: Seen[] = [];
    const ids: string[] = [];
    const until = Date.now() + ms;
    const worker = async (w: number) => {
      let k = await key(`load-${w}`);
      ids.push(k.id);
      let used = 0;
      while (Date.now() < until) {
        if (used === 50) {
          k = await key(`load-${w}`);
          ids.push(k.id);
          used = 0;
        }
        used += 1;
        try {
          const res = await postMcp(
            set.mcpUrl,
            legacyToolCall('memory_save', { content: `load ${w} ${used}` }),
            {
              key: k.key,
            },
          );
          const body = await res.text();
          seen.push({
            status: res.status,
            requestId: res.headers.get('x-request-id'),
            ok: res.status === 200 && body.includes('"result"'),
          });
        } catch {
          seen.push({ status: 'cut', requestId: null, ok: false });
        }
      }
    };
    await Promise.all([...Array.from({ length: workers }, (_, w) => worker(w)), during?.()]);
    return { seen, ids };
  };

  before(async () => {
    slowSite = createServer((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('A slow page.'), 2500);
    });
    slowSite.listen(0, '127.0.0.1');
    await once(slowSite, 'listening');
    slowUrl = `http://127.0.0.1:${(slowSite.address() as AddressInfo).port}/slow`;
    set = await startReplicas(
      3,
      [
        'rateLimits:',
        '  credential: { points: 60, windowSeconds: 60 }',
        '  tools:',
        '    memory_get: { points: 5, windowSeconds: 60 }',
        'policy:',
        '  tools:',
        '    memory_save: { labels: [external-sink] }',
        'tools:',
        '  webFetch:',
        '    allowHosts: [127.0.0.1]',
        '    allowHttpHosts: [127.0.0.1]',
        '    allowAddresses: [127.0.0.1/32]',
        '',
      ].join('\n'),
    );
    storage = await openPostgresStorage(set.db.config);
    const oauth = await openPostgresOAuthDatabase(set.db.config);
    await addUser(oauth, ALICE.name, ALICE.password);
    await oauth.close();
    admin = new pg.Client({ connectionString: set.db.adminUrl });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await storage?.close();
    await set?.close();
    slowSite?.closeAllConnections();
    slowSite?.close();
  });

  it('each replica warns in its banner and log when it runs as root, and only then', () => {
    for (const r of set.replicas) {
      if (process.getuid?.() === 0) {
        assert.match(r.stderr(), /WARNING: the gateway runs as root \(uid 0\)/);
        assert.match(r.stdout(), /"alert":"running-as-root"/);
      } else assert.doesNotMatch(r.stderr() + r.stdout(), /runs as root/);
    }
  });

  it('a person logs in through OAuth on replica 1; the token works on replicas 2 and 3, and refreshes on another', async () => {
    set.lb.pin(0);
    const client = await registerClient(set.lb.url);
    const tokens = await codeFlow(set.lb.url, new TestBrowser(set.lb.url), client, {
      scope: 'memory:read memory:write',
      resource: set.mcpUrl,
      person: ALICE,
    });
    for (const replica of [1, 2]) {
      set.lb.pin(replica);
      const saved = await call(tokens.access_token, 'memory_save', {
        content: `saved on replica ${replica + 1}`,
      });
      assert.match(saved.body.result?.structuredContent?.id ?? '', /^note_/, JSON.stringify(saved.body));
    }
    set.lb.pin(2);
    const refreshed = await tokenRequest(set.lb.url, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: client.clientId,
      resource: set.mcpUrl,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    set.lb.pin(1);
    const again = await call(refreshed.body.access_token as string, 'memory_save', {
      content: 'saved on replica 2 again',
    });
    set.lb.pin(undefined);
    assert.match(again.body.result?.structuredContent?.id ?? '', /^note_/, JSON.stringify(again.body));
    const notes = await admin.query(
      `SELECT owner FROM ${set.db.schema}.notes WHERE content LIKE 'saved on replica %'`,
    );
    assert.deepEqual(
      notes.rows.map((r) => r.owner),
      ['alice', 'alice', 'alice'],
    );
  });

  it('a key revoked through replica 1 is refused on its next call at replica 3', async () => {
    const k = await key('rita');
    set.lb.pin(2);
    assert.equal((await call(k.key, 'memory_search', { query: 'x' })).res.status, 200);
    const revoked = await runCli(['keys', 'revoke', k.id, '--data-dir', set.replicas[0]!.dataDir]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const next = await call(k.key, 'memory_search', { query: 'x' });
    set.lb.pin(undefined);
    assert.equal(next.res.status, 401);
  });

  it('holds a per-credential limit of 60/min across replicas: the 61st call is refused wherever it lands', async () => {
    const k = await key('lena');
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++)
      statuses.push((await call(k.key, 'memory_search', { query: 'x' })).res.status);
    assert.deepEqual(statuses.slice(0, 60), Array(60).fill(200));
    assert.equal(statuses[60], 429);
    // Round robin spread them: every replica counted on the same shared counter.
    assert.ok(
      set.lb.served.every((n) => n >= 20),
      JSON.stringify(set.lb.served),
    );
  });

  it('a confirmation started on replica 1 is approved on replica 2 and runs exactly once, on replica 3', async () => {
    const k = await key(ALICE.name);
    set.lb.pin(0);
    const saved = await call(k.key, 'memory_save', { content: 'to be deleted across replicas' });
    const id = saved.body.result.structuredContent.id as string;
    const first = await call(k.key, 'memory_delete', { id });
    assert.equal(first.body.result.isError, true);
    const link = approvalLink(first.body.result.content[0].text as string);
    set.lb.pin(1);
    const page = await decideOnPage(new TestBrowser(set.lb.url), link.url, ALICE, 'approve');
    assert.equal(page.status, 200);
    set.lb.pin(2);
    const ran = await call(k.key, 'memory_delete', { id });
    assert.deepEqual(ran.body.result.structuredContent, { deleted: true }, JSON.stringify(ran.body));
    set.lb.pin(0);
    const again = await call(k.key, 'memory_delete', { id });
    set.lb.pin(undefined);
    assert.equal(again.body.result.isError, true, 'the approval was used once');
    const deletes = (await toolCallRecords([k.id])).filter((r) => r.outcome === 'ok');
    assert.equal(deletes.length, 2, 'the save and one delete ran');
  });

  it('taint set on replica 1 is enforced on replica 3', async () => {
    const k = await key('tina');
    set.lb.pin(0);
    assert.equal((await call(k.key, 'memory_search', { query: 'anything' })).res.status, 200);
    const fetched = await call(k.key, 'web_fetch', { url: slowUrl });
    assert.equal(fetched.body.result.isError, undefined, JSON.stringify(fetched.body));
    set.lb.pin(2);
    const sent = await call(k.key, 'memory_save', { content: 'exfiltrated' });
    set.lb.pin(undefined);
    assert.equal(sent.body.result.isError, true);
    assert.match(sent.body.result.content[0].text as string, /lethal-trifecta/);
  });

  it('under concurrent load through every replica the audit chain verifies and holds one record per answered call', async () => {
    const servedBefore = [...set.lb.served];
    const { seen, ids } = await load(LOAD_MS, 6);
    const answered = seen.filter((s) => s.status !== 'cut');
    // The count depends on the machine (a loaded 2-core CI runner does a few dozen); what
    // matters is that every replica took part and every answer has its one record.
    assert.ok(answered.length >= 30, `only ${answered.length} calls answered`);
    assert.ok(
      set.lb.served.every((n, i) => n - (servedBefore[i] ?? 0) >= 5),
      `every replica served load: ${set.lb.served.join(',')}`,
    );
    assert.ok(
      answered.every((s) => s.ok),
      JSON.stringify(answered.filter((s) => !s.ok).slice(0, 3)),
    );
    const records = await toolCallRecords(ids);
    assert.equal(records.length, answered.length);
    assert.deepEqual(
      new Set(records.map((r) => r.correlation_id)),
      new Set(answered.map((s) => s.requestId)),
    );
    const verify = await runCli(['audit', 'verify', '--data-dir', set.replicas[1]!.dataDir]);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout, /intact/i);
    console.log(
      `# load: ${answered.length} calls in ${LOAD_MS / 1000} s (${(answered.length / (LOAD_MS / 1000)).toFixed(1)}/s), served ${set.lb.served.join(',')}`,
    );
  });

  it('PostgreSQL cut for 10 s: calls get 503 with Retry-After and /readyz 503; service comes back by itself', async () => {
    const k = await key('paula');
    set.pgProxy.cutOff();
    const refused: { status: number; retryAfter: string | null; code: number | undefined }[] = [];
    const readyz: number[] = [];
    const cutUntil = Date.now() + 10_000;
    while (Date.now() < cutUntil) {
      const { res, body } = await call(k.key, 'memory_save', { content: 'while the database is away' });
      refused.push({
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        code: body.error?.code,
      });
      for (const r of set.replicas) readyz.push((await fetch(`${r.url}/readyz`)).status);
      await sleep(500);
    }
    set.pgProxy.restore();
    const restoredAt = Date.now();
    assert.ok(refused.length >= 5);
    for (const r of refused) {
      assert.equal(r.status, 503, JSON.stringify(r));
      assert.match(r.retryAfter ?? '', /^\d+$/);
      assert.equal(r.code, -32603);
    }
    assert.ok(
      readyz.every((s) => s === 503),
      JSON.stringify(readyz),
    );
    // Back without a restart: the pools reconnect on their own.
    let recovered: number | undefined;
    while (Date.now() - restoredAt < 15_000) {
      const statuses = await Promise.all(
        set.replicas.map(
          async (r) => (await call(k.key, 'memory_search', { query: 'x' }, `${r.url}/mcp`)).res.status,
        ),
      );
      if (statuses.every((s) => s === 200)) {
        recovered = Date.now() - restoredAt;
        break;
      }
      await sleep(200);
    }
    assert.ok(recovered !== undefined, 'every replica serves again');
    // A readiness answer is reused for up to 1 s (http/readiness.ts: a flood of /readyz must not
    // queue the pool), so the last "not ready" from the cut may be served once more.
    for (const r of set.replicas) {
      let status = 0;
      for (let i = 0; i < 15 && status !== 200; i++) {
        if (i > 0) await sleep(200);
        status = (await fetch(`${r.url}/readyz`)).status;
      }
      assert.equal(status, 200, `${r.url} ready again`);
    }
    assert.ok(set.replicas.every((r) => r.alive));
    // Nothing ran unaudited: the refused saves stored nothing.
    const notes = await admin.query(
      `SELECT COUNT(*)::int AS n FROM ${set.db.schema}.notes WHERE content = $1`,
      ['while the database is away'],
    );
    assert.equal(notes.rows[0].n, 0);
    console.log(`# pg cut: ${refused.length} calls refused 503, recovered ${recovered} ms after restore`);
  });

  it('Redis cut for 10 s: calls still work and limits fall back to per-replica counting, never unlimited', async () => {
    const k = await key('rosa');
    set.redisProxy.cutOff();
    try {
      const started = Date.now();
      set.lb.pin(1);
      assert.equal((await call(k.key, 'memory_search', { query: 'x' })).res.status, 200, 'calls still work');
      // memory_get has a limit of its own (5/min per credential, below): the replica counts it.
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++)
        statuses.push((await call(k.key, 'memory_get', { id: 'note_none' })).res.status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429], 'never unlimited');
      // Per replica: another replica has its own count while Redis is away.
      set.lb.pin(2);
      assert.equal((await call(k.key, 'memory_get', { id: 'note_none' })).res.status, 200);
      set.lb.pin(undefined);
      // Polled: a readiness answer is reused for up to 1 s (see the PostgreSQL cut above).
      let ready: any;
      for (let i = 0; i < 15 && ready?.status !== 'degraded'; i++) {
        if (i > 0) await sleep(200);
        ready = await (await fetch(`${set.replicas[1]!.url}/readyz`)).json();
      }
      assert.equal(ready.status, 'degraded', JSON.stringify(ready));
      assert.equal(ready.checks.redis.state, 'down');
      await sleep(Math.max(0, 10_000 - (Date.now() - started)));
    } finally {
      set.lb.pin(undefined);
      set.redisProxy.restore();
    }
    const other = await key('rosa-after');
    assert.equal((await call(other.key, 'memory_search', { query: 'x' })).res.status, 200);
  });

  it('kill -9 of one replica mid-load loses no answered call’s audit record', async () => {
    const { seen, ids } = await load(6_000, 6, async () => {
      await sleep(2_000);
      await set.kill(1);
    });
    const answered = seen.filter((s) => s.ok);
    const records = new Set((await toolCallRecords(ids)).map((r) => r.correlation_id));
    assert.ok(answered.length >= 20, `only ${answered.length} calls answered`);
    const missing = answered.filter((s) => !records.has(s.requestId!));
    assert.deepEqual(missing, [], 'every 200 the client saw has its record');
    const verify = await runCli(['audit', 'verify', '--data-dir', set.replicas[0]!.dataDir]);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    console.log(
      `# kill -9: ${answered.length} answered, ${seen.filter((s) => s.status === 'cut').length} cut, ${seen.length - answered.length} not answered 200`,
    );
  });

  it('SIGTERM drains: a slow call in flight completes and is audited; a new request is refused', async () => {
    const r = set.replicas[2]!;
    const k = await key('sam');
    const inFlight = call(k.key, 'web_fetch', { url: slowUrl }, `${r.url}/mcp`);
    await sleep(800);
    const exited = set.terminate(2);
    await sleep(200);
    const late = await fetch(`${r.url}/healthz`).then(
      (res) => res.status,
      () => 'refused' as const,
    );
    const { res, body } = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(body.result.isError, undefined, JSON.stringify(body));
    assert.equal(await exited, 0);
    assert.match(
      r.stderr(),
      /Received SIGTERM, shutting down: no new connections; calls in flight get up to 10 s/,
    );
    assert.ok(late === 'refused' || late === 503, String(late));
    const records = await toolCallRecords([k.id]);
    assert.deepEqual(
      records.map((x) => [x.correlation_id, x.outcome]),
      [[res.headers.get('x-request-id'), 'ok']],
    );
  });
});
