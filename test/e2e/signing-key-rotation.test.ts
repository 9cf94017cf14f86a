import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { openPostgresOAuthDatabase } from '../../src/oauth/index.js';
import { createPgTestSchema, type PgTestSchema } from '../../src/storage/postgres/test-support.js';
import { runCli } from '../helpers/cli.js';
import { postMcp, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestBrowser } from '../helpers/oauth-browser.js';
import { addUser, codeFlow, registerClient } from '../helpers/oauth-gateway.js';

const ALICE = { name: 'alice', password: 'correct horse battery' };
const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

/**
 * `keys rotate-signing` on replicas that share one key directory and one PostgreSQL: the
 * replica that sees the rotation first signs with the new key, and every other replica verifies
 * that key at once (a token naming a key it does not hold makes it look), without a restart.
 */
describe('signing key rotation reaches running replicas', () => {
  let db: PgTestSchema;
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    db = await createPgTestSchema();
    const storage = `storage:\n  driver: postgres\n  url: ${db.writeUrl}\n  readUrl: ${db.readUrl}\n  schema: ${db.schema}\n`;
    a = await startTestGateway({ config: `${storage}keys:\n  reloadSeconds: 1\n` });
    // B signs and verifies with A's key directory and answers for A's public URL, as a replica
    // behind one load balancer would; it checks the file only hourly on its own.
    b = await startTestGateway({
      config:
        `${storage}keys:\n  dir: ${path.join(a.dataDir, 'keys')}\n  reloadSeconds: 3600\n` +
        `server:\n  publicUrl: ${a.gw.url.origin}\n`,
    });
    const oauth = await openPostgresOAuthDatabase(db.config);
    await addUser(oauth, ALICE.name, ALICE.password);
    await oauth.close();
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await db?.drop();
  });

  const token = async () => {
    const client = await registerClient(a.gw.url.origin, { client_name: 'Rotation test' });
    const tokens = await codeFlow(a.gw.url.origin, new TestBrowser(a.gw.url.origin), client, {
      scope: 'memory:read',
      resource: a.url,
      person: ALICE,
    });
    return tokens.access_token;
  };
  const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
  const published = async () =>
    ((await (await fetch(new URL('/oauth/jwks', a.gw.url))).json()) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );

  it('signs with the new key after a rotation from a shell, and both replicas accept old and new tokens', async () => {
    const before = await token();
    const oldKid = kidOf(before);
    assert.equal((await postMcp(b.url, list, { key: before })).status, 200);

    const rotated = await runCli(['keys', 'rotate-signing', '--data-dir', a.dataDir]);
    assert.equal(rotated.code, 0, rotated.stderr);

    // A checks its key file every second (keys.reloadSeconds: 1).
    for (let i = 0; i < 25 && (await published()).length === 1; i++) await sleep(200);
    const after = await token();
    const newKid = kidOf(after);
    assert.notEqual(newKid, oldKid, 'A signs with the new key without a restart');
    assert.deepEqual(await published(), [newKid, oldKid], 'both keys are published');

    // B has not looked at the file since it started: the new kid makes it look, once.
    assert.equal((await postMcp(b.url, list, { key: after })).status, 200);
    assert.equal((await postMcp(b.url, list, { key: before })).status, 200, 'the old key still verifies');
    assert.equal((await postMcp(a.url, list, { key: after })).status, 200);
  });

  it('a token signed by a key outside the shared directory is refused on every replica', async () => {
    const good = await token();
    // The same header and claims, re-signed with a key nobody published.
    const { generateKeyPair, SignJWT, decodeJwt } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(decodeJwt(good))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'not-a-published-key' })
      .sign(privateKey);
    for (const t of [a, b]) assert.equal((await postMcp(t.url, list, { key: forged })).status, 401);
    assert.equal((await postMcp(b.url, list, { key: good })).status, 200);
  });
});
