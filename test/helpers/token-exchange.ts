import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import { createUpstreamOAuthClient } from '../../src/connections/index.js';
import { startPersonUpstream, type PersonUpstream } from '../fixtures/person-upstream-server.js';
import {
  ACCESS_TOKEN_TYPE,
  GATEWAY_CLIENT_ID,
  startUpstreamAs,
  type UpstreamAs,
} from '../fixtures/upstream-as.js';
import { startTestGateway, type TestGateway } from './gateway.js';
import { TestBrowser } from './oauth-browser.js';
import { addUser, codeFlow, openOAuthTables, registerClient } from './oauth-gateway.js';
import { CLIENT_SECRET, loopbackGuard, settingsFor } from './upstream-oauth.js';
import { connectClient, upstreamsConfig } from './upstream-servers.js';

export interface TokenExchangeSetup {
  readonly as: UpstreamAs;
  readonly upstream: PersonUpstream;
  readonly t: TestGateway;
  /** Signs a person in to the gateway with OAuth (scope tx:read) and connects an SDK client. */
  signedIn(name: 'alice' | 'bob'): Promise<{ client: Client; token: string }>;
  /** Token exchanges the upstream AS answered so far. */
  exchanges(): number;
  close(): Promise<void>;
}

const PASSWORDS = { alice: 'alice password 1', bob: 'bob password 22' } as const;

/**
 * A gateway fronting `tx`, a token-exchange upstream (test/fixtures/person-upstream-server.ts)
 * whose AS (test/fixtures/upstream-as.ts) trusts the gateway's own tokens as RFC 8693 subject
 * tokens for alice and bob. The gateway lists the upstream with a listing credential of its own,
 * an upstream token obtained once by exchange, used for nothing else.
 */
export async function startTokenExchangeSetup(opts: { logger?: Logger } = {}): Promise<TokenExchangeSetup> {
  const accepted: Record<string, 'alice' | 'bob'> = {};
  const as = await startUpstreamAs({
    clientSecret: CLIENT_SECRET,
    scopes: ['files:read'],
    subjectTokens: accepted,
  });
  const upstream = await startPersonUpstream({ issuer: as.issuer });
  as.resources.add(upstream.url);
  as.serve(['http://127.0.0.1:9/unused']);
  accepted['operator-listing-token'] = 'bob';
  const guard = loopbackGuard();
  const listing = await createUpstreamOAuthClient({ guard }).exchangeToken(
    settingsFor(upstream.url, { issuer: as.issuer }),
    { token: 'operator-listing-token', tokenType: ACCESS_TOKEN_TYPE },
  );
  await guard.close();
  assert.ok(listing.ok);
  delete accepted['operator-listing-token'];
  const t = await startTestGateway({
    ...(opts.logger ? { logger: opts.logger } : {}),
    env: { UPSTREAM_AS_SECRET: CLIENT_SECRET, TX_LISTING_TOKEN: listing.value.accessToken },
    config: upstreamsConfig(
      [
        {
          name: 'tx',
          http: {
            url: upstream.url,
            allowHttp: true,
            allowAddresses: ['127.0.0.1/32'],
            auth: { bearer: { secret: 'env:TX_LISTING_TOKEN' } },
          },
          auth: {
            mode: 'token-exchange',
            issuer: as.issuer,
            clientId: GATEWAY_CLIENT_ID,
            clientSecret: 'env:UPSTREAM_AS_SECRET',
            scopes: ['files:read'],
          },
          pinning: 'trust-on-first-use',
          tools: { whoami: { class: 'read', labels: [] } },
        },
      ],
      { connections: { oauthEgress: { allowAddresses: ['127.0.0.1/32'], allowHttpHosts: ['127.0.0.1'] } } },
    ),
  });
  const db = openOAuthTables(t);
  for (const [name, password] of Object.entries(PASSWORDS)) await addUser(db, name, password);
  await db.close();
  const clients: Client[] = [];
  return {
    as,
    upstream,
    t,
    async signedIn(name) {
      const origin = t.gw.url.origin;
      const app = await registerClient(origin);
      const tokens = await codeFlow(origin, new TestBrowser(origin), app, {
        scope: 'tx:read',
        resource: t.url,
        person: { name, password: PASSWORDS[name] },
      });
      accepted[tokens.access_token] = name; // the upstream AS trusts this gateway's tokens for that person
      const client = await connectClient(t.url, tokens.access_token);
      clients.push(client);
      return { client, token: tokens.access_token };
    },
    exchanges: () =>
      as.requests.filter((r) => r.grantType === 'urn:ietf:params:oauth:grant-type:token-exchange').length,
    async close() {
      for (const c of clients) await c.close().catch(() => undefined);
      await t.close();
      await upstream.close();
      await as.close();
    },
  };
}
