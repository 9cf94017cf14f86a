import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { OAuthDatabase } from '../../src/oauth/index.js';
import { startFakeIdp, type FakeIdp } from '../helpers/fake-idp.js';
import {
  allowAndRedeem,
  federatedSignIn,
  federationEnv,
  idpClientFor,
} from '../helpers/federated-browser.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addUser, openOAuthTables } from '../helpers/oauth-gateway.js';

/**
 * Finding 11 of issue 10: with the account name taken from `email` (the default) and no
 * `allowedDomains`, an identity provider that lets anybody type an address made that address
 * an account here — and the account name is whose data it reaches. The attacker, a real
 * account at the real (fake) IdP, registers someone else's address without verifying it.
 */
describe('attack: federated account takeover with an unverified email', () => {
  let idp: FakeIdp;
  let t: TestGateway;
  let db: OAuthDatabase;
  let cleanup: () => void;
  const logs: { msg?: string; reason?: string }[] = [];

  before(async () => {
    idp = await startFakeIdp([
      // Mallory's accounts carry the victims' addresses, which the IdP never verified.
      { sub: 'mallory-1', email: 'dana@acme.example', emailVerified: false },
      { sub: 'mallory-2', email: 'erin@acme.example', emailVerified: false },
      { sub: 'fay-1', email: 'fay@acme.example', emailVerified: true },
    ]);
    // Every person the IdP signs in is a member, so only the email rule stands in the way.
    const fed = federationEnv(idp, {
      PORTCULLIS_OAUTH__FEDERATION__ROLES: JSON.stringify([
        { claim: 'iss', equals: idp.issuer, role: 'member' },
      ]),
    });
    cleanup = fed.cleanup;
    t = await startTestGateway({
      env: fed.env,
      logger: pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) }),
    });
    idp.serve([idpClientFor(t.gw.url.origin)]);
    db = openOAuthTables(t);
    await addUser(db, 'dana@acme.example', 'dana password one');
  });
  after(async () => {
    await db?.close();
    await t?.close();
    await idp?.close();
    cleanup?.();
  });

  const refusals = () => logs.filter((l) => l.msg === 'federated login refused').map((l) => l.reason);

  const where = () => ({ origin: t.gw.url.origin, mcpUrl: t.url, issuer: idp.issuer });
  const signInAs = (account: string) => federatedSignIn(where(), account);

  it('an unverified address of someone who has notes here (through an API key) signs nobody in', async () => {
    const erin = (await t.key({ owner: 'erin@acme.example', scopes: ['memory:write', 'memory:read'] })).key;
    const saved = await postMcp(
      t.url,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'memory_save', arguments: { content: 'erin’s private note' } },
      },
      { key: erin },
    );
    assert.equal(saved.status, 200);

    const { page } = await signInAs('mallory-2');
    assert.equal(page.res.status, 403, 'no consent page, no code');
    assert.match(page.body, /Signing in with your organisation did not work/);
    assert.equal(await db.users.find('erin@acme.example'), undefined, 'no account was created');
    assert.equal(refusals().at(-1), 'federation-email-unverified');
  });

  it('an unverified address of an existing local person is refused as unverified', async () => {
    const { page } = await signInAs('mallory-1');
    assert.equal(page.res.status, 403);
    assert.equal(refusals().at(-1), 'federation-email-unverified');
    const dana = await db.users.find('dana@acme.example');
    assert.equal(dana?.federatedSubject, null, 'the local account is untouched');
  });

  it('a verified address signs in and reaches its own notes', async () => {
    const accessToken = await allowAndRedeem(where(), await signInAs('fay-1'));
    const call = await postMcp(
      t.url,
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'memory_save', arguments: { content: 'fay’s note' } },
      },
      { key: accessToken },
    );
    assert.equal(call.status, 200);
    assert.equal((await readRpc(call)).result?.isError, undefined);
    assert.equal((await db.users.find('fay@acme.example'))?.federatedSubject, 'fay-1');
  });
});
