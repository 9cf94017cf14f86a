import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startFakeIdp, type FakeIdp } from '../helpers/fake-idp.js';
import {
  allowAndRedeem,
  federatedSignIn,
  federationEnv,
  idpClientFor,
} from '../helpers/federated-browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { openOAuthTables } from '../helpers/oauth-gateway.js';
import { modernCall, textOf } from '../helpers/policy-clients.js';

/**
 * A red-team finding on issue 10: with `subjectClaim: preferred_username`, the first person the
 * identity provider calls "bob" became the account `bob` with tenant `bob` — and so reached the
 * notes of the API key owned by bob (and capped that key by the newcomer's role). A name that
 * owns data here is now never claimed by a first federated sign-in; the operator links the
 * identity-provider account to it with `users add NAME --federated-subject SUB`.
 */
describe('attack: a federated sign-in that claims the name of an API key owner', () => {
  let idp: FakeIdp;
  let t: TestGateway;
  let env: Record<string, string>;
  let cleanup: () => void;
  let bobKey: string;
  let bobNote: string;

  before(async () => {
    idp = await startFakeIdp([
      { sub: 'mallory-1', email: 'mallory@evil.example', emailVerified: true, username: 'bob' },
      { sub: 'mallory-2', email: 'mallory2@evil.example', emailVerified: true, username: 'team' },
      { sub: 'bob-1', email: 'bob@acme.example', emailVerified: true, username: 'bob' },
      { sub: 'carol-1', email: 'carol@acme.example', emailVerified: true, username: 'carol' },
    ]);
    const fed = federationEnv(idp, {
      PORTCULLIS_OAUTH__FEDERATION__SUBJECT_CLAIM: 'preferred_username',
      PORTCULLIS_OAUTH__FEDERATION__ROLES: JSON.stringify([
        { claim: 'iss', equals: idp.issuer, role: 'member' },
      ]),
    });
    env = fed.env;
    cleanup = fed.cleanup;
    t = await startTestGateway({ env });
    idp.serve([idpClientFor(t.gw.url.origin)]);
    bobKey = (await t.key({ owner: 'bob', scopes: ['memory:read', 'memory:write', 'memory:delete'] })).key;
    const saved = await modernCall(t.url, bobKey, 'memory_save', { content: 'bob’s private note' });
    bobNote = saved.result.structuredContent.id as string;
    // A key whose tenant is not its owner's name: the tenant is taken too.
    await t.key({ owner: 'ci', tenant: 'team', scopes: ['memory:read'] });
  });
  after(async () => {
    await t?.close();
    await idp?.close();
    cleanup?.();
  });

  const where = () => ({ origin: t.gw.url.origin, mcpUrl: t.url, issuer: idp.issuer });
  const signInAs = (account: string) => federatedSignIn(where(), account);

  const tokenOf = (signedIn: Awaited<ReturnType<typeof signInAs>>) => allowAndRedeem(where(), signedIn);

  const users = async () => {
    const db = openOAuthTables(t);
    try {
      return await db.users.list();
    } finally {
      await db.close();
    }
  };

  it('the first federated "bob" does not become the owner of bob’s key and notes', async () => {
    const { page } = await signInAs('mallory-1');
    assert.equal(page.res.status, 403, 'no consent page, no code');
    assert.match(page.body, /already belongs to someone here/);
    assert.equal(
      (await users()).find((u) => u.name === 'bob'),
      undefined,
      'no account was created',
    );
    const refused = (await t.audit.log.query({ limit: 50, newest: true })).find(
      (r) => r.event === 'authentication' && r.errorCode === 'federation-name-taken',
    );
    assert.equal(refused?.reasons[0], 'login-failed');
    // Bob's key still does everything it did: it was not capped by a newcomer's role.
    const del = await modernCall(t.url, bobKey, 'memory_get', { id: bobNote });
    assert.notEqual(del.result.isError, true, textOf(del.result));
  });

  it('a name that is the tenant of another owner’s key is refused too', async () => {
    const { page } = await signInAs('mallory-2');
    assert.equal(page.res.status, 403);
    assert.equal(
      (await users()).find((u) => u.name === 'team'),
      undefined,
    );
  });

  it('a new name with no data here signs in as before', async () => {
    const token = await tokenOf(await signInAs('carol-1'));
    const saved = await modernCall(t.url, token, 'memory_save', { content: 'carol’s note' });
    assert.notEqual(saved.result.isError, true, textOf(saved.result));
  });

  it('once the operator links bob’s identity-provider account, bob signs in and reaches his notes', async () => {
    const linked = await runCli(
      ['users', 'add', 'bob', '--federated-subject', 'bob-1', '--data-dir', t.dataDir],
      {
        env,
      },
    );
    assert.equal(linked.code, 0, linked.stderr);
    assert.match(linked.stdout, /bob/);
    const stillRefused = await signInAs('mallory-1');
    assert.equal(stillRefused.page.res.status, 403, 'the name is bound to bob-1 alone');
    const token = await tokenOf(await signInAs('bob-1'));
    const read = await modernCall(t.url, token, 'memory_get', { id: bobNote });
    assert.notEqual(read.result.isError, true, textOf(read.result));
  });
});
