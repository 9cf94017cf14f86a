import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signedIn } from '../helpers/console.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { recordsAfter } from '../helpers/audit-records.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { TestBrowser } from '../helpers/oauth-browser.js';
import { callTool, connectV2 } from '../helpers/policy-clients.js';

const TOOL = '<img src=x onerror=alert(document.domain)>';
const NAME = '"><svg onload=alert(1)>';
const NOTE = '</pre><script>alert("note")</script>';

/**
 * Attack: stored XSS against the operator. A caller chooses what lands in the audit log — a tool
 * name that does not exist, a name typed on the sign-in form, a note's text in a logged payload —
 * and waits for an admin to open the audit search or the record. Every such value is escaped
 * (the pages are built only through the escaping `html` tag, and allow no script anyway).
 */
describe('attack: stored XSS through the audit search', () => {
  let t: TestGateway;
  let admin: TestBrowser;
  before(async () => {
    t = await startTestGateway({ config: 'audit:\n  fullPayloadTools: [memory_save]\n' });
    // The data directory was initialised with the config: no first run, so an admin is added.
    const db = openOAuthTables(t);
    await addUser(db, 'root', 'root long password', 'root', 'admin');
    await db.close();
    admin = await signedIn(t, 'root', 'root long password');
    const { client } = await connectV2(t.url, (await t.key({ owner: 'alice' })).key);
    try {
      await client.callTool({ name: TOOL, arguments: {} }).catch(() => undefined);
      await callTool(client, 'memory_save', { content: NOTE, title: TOOL });
    } finally {
      await client.close();
    }
    // A sign-in attempt whose typed name is markup.
    const login = await fetch(`${t.gw.url.origin}/admin`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await login.text())![1]!;
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    await fetch(`${t.gw.url.origin}/admin/login`, {
      method: 'POST',
      headers: { cookie, origin: t.gw.url.origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, name: NAME, password: 'wrong password here' }).toString(),
    });
  });
  after(() => t.close());

  it('the search and the records show the hostile values as text, never as markup', async () => {
    const records = await recordsAfter(t, 0);
    assert.ok(
      records.some((r) => r.tool === TOOL),
      'the hostile tool name is on the record',
    );
    assert.ok(
      records.some((r) => r.principal === NAME),
      'so is the hostile sign-in name',
    );
    const search = await admin.navigate('/admin/search?since=1h');
    assert.equal(search.res.status, 200);
    for (const page of [search.body]) {
      assert.ok(!page.includes('<img src=x'), 'no injected <img>');
      assert.ok(!page.includes('<svg onload'), 'no injected <svg>');
      assert.ok(
        page.includes('&lt;img src=x onerror=alert(document.domain)&gt;'),
        'the tool name is shown, escaped',
      );
      assert.ok(page.includes('&quot;&gt;&lt;svg onload=alert(1)&gt;'), 'the typed name is shown, escaped');
    }
    const saved = records.find((r) => r.event === 'tool-call' && r.tool === 'memory_save')!;
    const record = await admin.navigate(`/admin/records/${saved.seq}`);
    assert.ok(!record.body.includes('<script>alert'), 'no injected <script> in the record');
    assert.ok(record.body.includes('&lt;/pre&gt;&lt;script&gt;alert('), 'the payload is shown, escaped');
    const overview = await admin.navigate('/admin');
    assert.ok(!overview.body.includes('<img src=x'));
    assert.doesNotMatch(search.res.headers.get('content-security-policy') ?? '', /script-src|unsafe-inline/);
  });
});
