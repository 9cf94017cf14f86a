import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { formOf, TestBrowser } from '../helpers/oauth-browser.js';
import { addUser, authorizationRequest, openOAuthTables, registerClient } from '../helpers/oauth-gateway.js';

/**
 * Attack: an app names itself, at registration, with characters that make what people read
 * differ from what it says. Escape sequences in `client_name` reach the operator's terminal
 * through `portcullis clients list` (OSC 52 sets their clipboard, CSI erases the line and
 * writes a fake one); a right-to-left override reverses the consent page's sentence after the
 * name ("<name> wants to act for <person>"); zero-width and tag characters make two names look
 * alike. Registration refuses controls and bidi formatting in client metadata, and the pages
 * show every hidden character of a name by name and isolate it from the sentence around it.
 */

const ALICE = { name: 'alice', password: 'correct horse battery' };
const REDIRECT = 'http://127.0.0.1:1/callback';
const TERMINAL = 'Nice app\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2K\rpcc_x  Nightly  client_credentials';

describe('attack: control, bidi and invisible characters in an app name', () => {
  let t: TestGateway;
  let origin: string;
  before(async () => {
    t = await startTestGateway();
    origin = t.gw.url.origin;
    const db = openOAuthTables(t);
    await addUser(db, ALICE.name, ALICE.password);
    await db.close();
  });
  after(() => t.close());

  const register = (metadata: Record<string, unknown>) =>
    fetch(`${origin}/oauth/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        application_type: 'native',
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        ...metadata,
      }),
    });

  it('a registration whose metadata carries escape sequences or bidi controls is refused', async () => {
    for (const metadata of [
      { client_name: TERMINAL },
      { client_name: 'Calendar\u202e sync' },
      { client_name: 'Calendar\u2066 sync' },
      { client_name: 'C1 \u009b2J' },
      { client_name: 'Fine', contacts: ['ops@example.com\u001b[2J'] },
    ]) {
      const res = await register(metadata);
      const body = (await res.json()) as { error: string; error_description: string };
      assert.equal(res.status, 400, JSON.stringify(metadata));
      assert.equal(body.error, 'invalid_client_metadata');
      assert.match(body.error_description, /control or bidi formatting characters/);
    }
    const listed = await runCli(['clients', 'list', '--data-dir', t.dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes('\u001b'), 'an escape sequence reached the operator terminal');
  });

  it('an ordinary name, in any script, registers and is shown as it is', async () => {
    const res = await register({ client_name: 'Notes for Ünïcode 日本語 עברית' });
    assert.equal(res.status, 201);
    const { body } = await consentPage(((await res.json()) as { client_id: string }).client_id);
    assert.match(body, /<bdi>Notes for Ünïcode 日本語 עברית<\/bdi>/);
  });

  /** Signs in on an authorization request of the client; returns the consent page. */
  async function consentPage(clientId: string) {
    const browser = new TestBrowser(origin);
    const { url } = authorizationRequest(
      origin,
      { clientId, redirectUri: REDIRECT },
      { scope: 'memory:read', resource: t.url },
    );
    const login = await browser.navigate(url);
    const { action, csrf } = formOf(login.body);
    const consent = await browser.navigate(action, { form: { csrf, ...ALICE } });
    assert.equal(consent.res.status, 200);
    assert.match(consent.body, /wants to act for/);
    return { browser, body: consent.body };
  }

  it('the pages show every hidden character of a stored name by name, also one stored before', async () => {
    // Zero-width and tag characters pass registration; bidi controls come from a client stored
    // before registration refused them.
    const hidden = ['\u200b', '\u{e0041}'];
    const zeroWidth = await registerClient(origin, { client_name: `Calen\u200bdar\u{e0041}` });
    const first = await consentPage(zeroWidth.clientId);
    for (const ch of hidden) assert.ok(!first.body.includes(ch), 'a hidden character is shown raw');
    assert.match(first.body, /U\+200B/);

    const db = openOAuthTables(t);
    const id = randomBytes(12).toString('base64url');
    await db.oauth.upsert(
      'Client',
      id,
      {
        client_id: id,
        client_name: 'Calendar\u202e sync',
        application_type: 'native',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
      },
      null,
    );
    await db.close();
    const { browser, body } = await consentPage(id);
    assert.ok(!body.includes('\u202e'), 'the consent page carries the override raw');
    assert.match(body, /<bdi>Calendar⟦U\+202E/);
    const { action, csrf } = formOf(body);
    await browser.navigate(action, { form: { csrf, decision: 'allow' } });
    const account = await browser.navigate('/account');
    assert.match(account.body, /Connected apps/);
    assert.ok(!account.body.includes('\u202e'), 'the connected-apps list carries it raw');
    assert.match(account.body, /U\+202E/);
  });
});
