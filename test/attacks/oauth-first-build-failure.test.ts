import assert from 'node:assert/strict';
import { register } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Red team of the authorization server built on first use (h/mem). Its design says a failed
 * build "is not kept: the next request builds again", and the failed request is told 503
 * temporarily_unavailable, "try again shortly". But Node caches a failed dynamic import for
 * the life of the process: when the build fails in `import('./create-provider.js')` (a file
 * that cannot be read at that moment — EMFILE under a connection flood, a disk hiccup — or a
 * module of oidc-provider's graph that throws while it evaluates), every later import rethrows
 * the same error without trying again. The gateway then answers every OAuth request 503 until
 * it is restarted, although the failure has passed. On main the provider is built at start
 * (a failure stops start at once, where the operator sees it), so this hook never sees the load.
 *
 * The load hook below fails the first load of create-provider.js once, as a transient EMFILE
 * would, and lets every later one through.
 */
register(
  `data:text/javascript,${encodeURIComponent(`
    let failed = false;
    export async function load(url, context, next) {
      if (!failed && url.endsWith('/src/oauth/create-provider.js')) {
        failed = true;
        throw Object.assign(new Error('EMFILE: too many open files, open create-provider.js'), { code: 'EMFILE' });
      }
      return next(url, context);
    }`)}`,
);

describe('attack: a transient failure of the first authorization-server build', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
  });
  after(() => t.close());

  it('the authorization server answers again once the failure has passed', async () => {
    const discovery = `${t.gw.url.origin}/.well-known/oauth-authorization-server/oauth`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(discovery);
      statuses.push(res.status);
      const body = (await res.json()) as { issuer?: string; error?: string };
      // Fail closed while it cannot be built: never a half-built answer.
      if (res.status !== 200) assert.equal(body.error, 'temporarily_unavailable');
      else assert.equal(body.issuer, `${t.gw.url.origin}/oauth`);
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(statuses.at(-1), 200, `the build is retried; got ${statuses.join(', ')}`);
  });
});
