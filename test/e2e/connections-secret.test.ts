import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import {
  formEndingWith,
  KEYED_SERVER,
  keyLabel,
  pasteKey,
  signedInOnConnections,
} from '../helpers/connections.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import type { TestBrowser } from '../helpers/oauth-browser.js';
import {
  call,
  capturingLogger,
  connectClient,
  NODE,
  textOf,
  upstreamsConfig,
} from '../helpers/upstream-servers.js';

/** Every byte under a directory (the data dir: databases, WAL files, keys, lockfile, audit). */
function bytesUnder(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) parts.push(fs.readFileSync(path.join(entry.parentPath, entry.name)));
  }
  return Buffer.concat(parts);
}

/**
 * person-secret with a stdio upstream (issue 13): alice and bob paste their own keys on the
 * connections page; each call runs in that person's own sandboxed process with that key only;
 * the key never appears in a result, a log line, or any byte of the data directory.
 */
describe("people's own keys for a stdio upstream", () => {
  let t: TestGateway;
  const log = capturingLogger();
  const ALICE_KEY = `alice-${'a1'.repeat(12)}`;
  const BOB_KEY = `bob-${'b2'.repeat(12)}`;
  const CAROL_KEY = `carol-${'c7'.repeat(12)}`;
  let alice: Client;
  let bob: Client;
  let aliceBrowser: TestBrowser;
  let bobBrowser: TestBrowser;
  const keys: Record<string, string> = {};

  before(async () => {
    t = await startTestGateway({
      logger: log.logger,
      config: upstreamsConfig([
        {
          name: 'crm',
          stdio: { command: NODE, args: [KEYED_SERVER] },
          auth: { mode: 'person-secret', env: 'KEYED_KEY', label: 'your CRM API key' },
          pinning: 'trust-on-first-use',
          tools: { '*': { class: 'read' } },
          sessions: { maxPerUpstream: 2, idleSeconds: 10 },
        },
      ]),
    });
    const db = openOAuthTables(t);
    await addUser(db, 'alice', 'alice password 1');
    await addUser(db, 'bob', 'bob password 22');
    await db.close();
    keys.alice = (await t.key({ owner: 'alice', scopes: ['crm:read'] })).key;
    keys.bob = (await t.key({ owner: 'bob', scopes: ['crm:read'] })).key;
    alice = await connectClient(t.url, keys.alice);
    bob = await connectClient(t.url, keys.bob);
    const origin = new URL(t.url).origin;
    aliceBrowser = await signedInOnConnections(origin, { name: 'alice', password: 'alice password 1' });
    bobBrowser = await signedInOnConnections(origin, { name: 'bob', password: 'bob password 22' });
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
    await t?.close();
  });

  it('before connecting, a call tells the model to ask the person to connect, with the URL', async () => {
    const r = await call(alice, 'crm__whoami');
    assert.equal(r.isError, true);
    assert.match(textOf(r), /not connected it yet/);
    assert.ok(textOf(r).includes(`${new URL(t.url).origin}/account/connections`));
  });

  it('the page lists the upstream as not connected, with a password field', async () => {
    const page = await aliceBrowser.navigate('/account/connections');
    assert.equal(page.res.status, 200);
    assert.match(page.body, /Not connected/);
    assert.match(page.body, /type="password"/);
    assert.match(page.body, /Paste your CRM API key/);
    assert.match(page.res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });

  it('each person pastes their key and each call reaches the upstream with that key only', async () => {
    const a = await pasteKey(aliceBrowser, 'crm', ALICE_KEY);
    assert.match(a.body, /Connected\. Your tool calls/);
    assert.ok(!a.body.includes(ALICE_KEY), 'the key is never shown again');
    await pasteKey(bobBrowser, 'crm', BOB_KEY);

    const ra = textOf(await call(alice, 'crm__whoami'));
    const rb = textOf(await call(bob, 'crm__whoami'));
    assert.ok(ra.startsWith(keyLabel(ALICE_KEY)), ra);
    assert.ok(rb.startsWith(keyLabel(BOB_KEY)), rb);
    const pid = (s: string) => /process:([0-9a-f-]+)/.exec(s)?.[1];
    assert.notEqual(pid(ra), pid(rb), 'two processes, one per person');
    assert.equal(pid(textOf(await call(alice, 'crm__whoami'))), pid(ra), 'the session is kept between calls');
  });

  it('at most sessions.maxPerUpstream processes run: a third person stops the longest idle', async () => {
    const db = openOAuthTables(t);
    await addUser(db, 'carol', 'carol password 333');
    await db.close();
    const carolBrowser = await signedInOnConnections(new URL(t.url).origin, {
      name: 'carol',
      password: 'carol password 333',
    });
    await pasteKey(carolBrowser, 'crm', CAROL_KEY);
    const carol = await connectClient(t.url, (await t.key({ owner: 'carol', scopes: ['crm:read'] })).key);
    try {
      assert.ok(textOf(await call(carol, 'crm__whoami')).startsWith(keyLabel(CAROL_KEY)));
      const stopped = log.lines.filter(
        (l) => l.includes('person session stopped') && l.includes('"why":"cap"'),
      );
      assert.equal(stopped.length, 1);
      // The stopped person's next call starts a fresh process with their own key again.
      assert.ok(textOf(await call(alice, 'crm__whoami')).startsWith(keyLabel(ALICE_KEY)));
    } finally {
      await carol.close();
    }
  });

  it('a server that echoes the key gets it redacted from the result', async () => {
    const r = textOf(await call(alice, 'crm__echo_key'));
    assert.ok(!r.includes(ALICE_KEY), r);
    assert.match(r, /the key is/);
  });

  it('disconnecting stops the next call, and the page says not connected', async () => {
    const page = await bobBrowser.navigate('/account/connections');
    const { csrf, action } = formEndingWith(page.body, '/disconnect');
    const done = await bobBrowser.navigate(action, { form: { csrf } });
    assert.match(done.body, /Disconnected/);
    assert.match(done.body, /Not connected/);
    const r = await call(bob, 'crm__whoami');
    assert.equal(r.isError, true);
    assert.match(textOf(r), /not connected it yet/);
    assert.ok(
      textOf(await call(alice, 'crm__whoami')).startsWith(keyLabel(ALICE_KEY)),
      'alice is unaffected',
    );
  });

  it('the keys appear in no log line and in no byte of the data directory', async () => {
    const logs = log.lines.join('\n');
    const disk = bytesUnder(t.dataDir);
    for (const k of [ALICE_KEY, BOB_KEY, CAROL_KEY]) {
      assert.ok(!logs.includes(k), 'not in the logs');
      assert.ok(!disk.includes(Buffer.from(k)), 'not on disk');
    }
    assert.ok(logs.includes('person session started'), 'the sessions were logged (by connection id)');
    const calls = (await t.audit.log.query({ tool: 'crm__whoami', limit: 100 })).filter(
      (r) => r.event === 'tool-call',
    );
    const ok = calls.filter((r) => r.outcome === 'ok');
    assert.ok(ok.length >= 4);
    assert.ok(
      ok.every((r) => r.connectionId?.startsWith('conn_')),
      'each record names the connection used',
    );
    assert.ok(calls.filter((r) => r.outcome !== 'ok').every((r) => r.connectionId === undefined));
    assert.equal(new Set(ok.filter((r) => r.principal === 'alice').map((r) => r.connectionId)).size, 1);
    const used = log.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'upstream call with the person’s own connection');
    assert.ok(
      used.length >= 4 &&
        used.every(
          (l) =>
            typeof l.connection === 'string' &&
            String(l.connection).startsWith('conn_') &&
            typeof l.requestId === 'string',
        ),
    );
  });
});
