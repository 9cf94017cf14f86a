import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { register } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createEgressGuard } from '../../src/egress/index.js';

/**
 * Red team of the egress guard's undici loaded by its first request (h/mem). The guard keeps
 * the promise of its agent (`agent ??= Promise.all([import('undici'), …])`), and Node caches a
 * failed dynamic import for the life of the process besides: when that first load fails once
 * (a file that cannot be opened at that moment, EMFILE under load), every later request
 * through the guard — webhooks, upstream OAuth, client metadata documents — fails too, until
 * a restart. On main undici is loaded at start, before this hook exists, and nothing changes.
 *
 * The load hook fails the first load of undici's entry once, as a transient EMFILE would.
 */
register(
  `data:text/javascript,${encodeURIComponent(`
    let failed = false;
    export async function load(url, context, next) {
      if (!failed && url.endsWith('/node_modules/undici/index.js')) {
        failed = true;
        throw Object.assign(new Error('EMFILE: too many open files, open undici/index.js'), { code: 'EMFILE' });
      }
      return next(url, context);
    }`)}`,
);

describe('attack: a transient failure of the egress guard’s first undici load', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((_req, res) => res.end('hello'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('requests through the guard work again once the failure has passed', async () => {
    const guard = createEgressGuard({
      allowHosts: ['*'],
      allowHttpHosts: ['127.0.0.1'],
      allowAddresses: ['127.0.0.1/32'],
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        const res = await guard.fetch(`${base}/`);
        outcomes.push(`${res.status} ${res.text()}`);
        break;
      } catch (err) {
        outcomes.push(`failed: ${(err as Error).message}`);
      }
    }
    await guard.close();
    assert.equal(outcomes.at(-1), '200 hello', outcomes.join(' | '));
  });
});
