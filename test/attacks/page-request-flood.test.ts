import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const POINTS = 6;

/**
 * Attack: hammer the sign-in pages (/account, /approvals/<id>) from one address — password
 * checks, CSRF cookies and storage reads for anyone, without a credential — while /oauth/* is
 * rate limited per address. The pages now share that limit (`rateLimits.oauth`): one budget
 * per address across /oauth/*, /account/* and /approvals/*, then 429 with Retry-After.
 */
describe('attack: flooding the sign-in pages from one address', () => {
  let t: TestGateway;
  let origin: string;
  before(async () => {
    t = await startTestGateway({
      config: 'server:\n  trustProxy: true\n',
      env: { PORTCULLIS_RATE_LIMITS__OAUTH__POINTS: String(POINTS) },
    });
    origin = t.gw.url.origin;
  });
  after(() => t.close());

  const from = (address: string, path: string, init: RequestInit = {}) =>
    fetch(`${origin}${path}`, {
      ...init,
      headers: { 'x-forwarded-for': address, ...(init.headers as Record<string, string>) },
    });

  it('one address gets one budget over the OAuth endpoints, /account and /approvals, then 429', async () => {
    const paths = ['/account', `/approvals/apr_${'f'.repeat(22)}`, '/oauth/jwks'];
    const statuses: number[] = [];
    for (let i = 0; i < POINTS; i++) statuses.push((await from('203.0.113.7', paths[i % 3]!)).status);
    assert.ok(
      statuses.every((s) => s === 200),
      `within the budget every page answers: ${statuses.join(' ')}`,
    );
    for (const path of ['/account', '/account/login', `/approvals/apr_${'f'.repeat(22)}`, '/oauth/jwks']) {
      const res = await from('203.0.113.7', path, path === '/account/login' ? { method: 'POST' } : {});
      assert.equal(res.status, 429, path);
      assert.ok(Number(res.headers.get('retry-after')) > 0, `${path}: Retry-After`);
    }
  });

  it('another address, and /mcp and /healthz, are not held back by it', async () => {
    assert.equal((await from('203.0.113.8', '/account')).status, 200);
    assert.equal((await from('203.0.113.8', `/approvals/apr_${'f'.repeat(22)}`)).status, 200);
    assert.equal((await from('203.0.113.7', '/healthz')).status, 200);
    const mcp = await from('203.0.113.7', '/mcp', { method: 'POST' });
    assert.equal(mcp.status, 401, 'the MCP endpoint keeps its own limits');
  });
});
