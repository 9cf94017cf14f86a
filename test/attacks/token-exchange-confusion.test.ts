import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UPSTREAM_SUBJECTS } from '../fixtures/upstream-as.js';
import { startTokenExchangeSetup, type TokenExchangeSetup } from '../helpers/token-exchange.js';
import { call, capturingLogger, connectClient, textOf } from '../helpers/upstream-servers.js';

/*
 * Attacks on token exchange at call time (issue 13): a caller trying to act upstream as another
 * person through the exchange cache, an API key passing itself off as an exchangeable sign-in,
 * and the caller's Portcullis token leaking to the upstream MCP server or into the logs. The
 * legitimate exchange beside them works.
 */
describe('attack: token exchange cannot be steered to another person or leak the caller token', () => {
  let setup: TokenExchangeSetup;
  const log = capturingLogger();
  before(async () => (setup = await startTokenExchangeSetup({ logger: log.logger })));
  after(() => setup?.close());

  it('interleaved calls of two people each act as their own upstream account, every time', async () => {
    const alice = await setup.signedIn('alice');
    const bob = await setup.signedIn('bob');
    for (let round = 0; round < 4; round++) {
      const [a, b] = await Promise.all([
        call(alice.client, 'tx__whoami', {}),
        call(bob.client, 'tx__whoami', {}),
      ]);
      assert.match(textOf(a), new RegExp(UPSTREAM_SUBJECTS.alice), `round ${round}`);
      assert.match(textOf(b), new RegExp(UPSTREAM_SUBJECTS.bob), `round ${round}`);
      assert.doesNotMatch(textOf(a), new RegExp(UPSTREAM_SUBJECTS.bob));
    }
    // The caller's own token goes only to the upstream's AS, never to the upstream MCP server: it
    // would be refused there (wrong issuer) and recorded as an invalid token.
    assert.ok(
      !setup.upstream.calls.some((c) => c.outcome === 'invalid-token'),
      'no Portcullis token reached the upstream',
    );
    const logs = log.lines.join('\n');
    assert.ok(!logs.includes(alice.token) && !logs.includes(bob.token), 'no caller token in any log line');
  });

  it('an API key of the same person is never exchanged, and no exchange is even attempted', async () => {
    const before = setup.exchanges();
    const keyed = await connectClient(
      setup.t.url,
      (await setup.t.key({ owner: 'alice', scopes: ['tx:read'] })).key,
    );
    const out = await call(keyed, 'tx__whoami', {});
    await keyed.close();
    assert.equal(out.isError, true);
    assert.doesNotMatch(textOf(out), new RegExp(UPSTREAM_SUBJECTS.alice));
    assert.equal(setup.exchanges(), before);
  });
});
