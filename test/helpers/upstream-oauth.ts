import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createUpstreamOAuthGuard } from '../../src/connections/upstream-oauth/index.js';
import type { EgressGuard } from '../../src/egress/index.js';
import type { UpstreamOAuthSettings } from '../../src/connections/upstream-oauth-contract.js';

/** The gateway's callback at the upstream AS in these tests; never fetched (the test reads the redirect). */
export const REDIRECT_URI = 'http://127.0.0.1:9/account/connections/callback';
export const CLIENT_SECRET = 'upstream-client-secret-5d1e8b2a';

/** An egress guard for loopback fixtures: plain http, and only the given loopback addresses. */
export function loopbackGuard(addresses: readonly string[] = ['127.0.0.1/32']): EgressGuard {
  return createUpstreamOAuthGuard({ allowHttpHosts: ['*'], allowAddresses: addresses, timeoutMs: 5_000 });
}

export function settingsFor(
  resource: string,
  extra: Partial<UpstreamOAuthSettings> = {},
): UpstreamOAuthSettings {
  return {
    upstream: 'files',
    resource,
    clientId: 'portcullis-gateway',
    clientSecret: CLIENT_SECRET,
    scopes: ['files:read'],
    ...extra,
  };
}

/** Calls the person upstream's `whoami` with a bearer token (SDK v2 client); answers the `sub` it saw. */
export async function whoami(url: string, accessToken: string): Promise<string> {
  const client = new Client({ name: 'upstream-oauth-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
    }),
  );
  try {
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as {
      content: { type: string; text?: string }[];
    };
    return result.content.map((c) => c.text ?? '').join('');
  } finally {
    await client.close();
  }
}

/** A raw MCP request with a bearer token: the HTTP status the upstream answers. */
export async function statusWith(url: string, accessToken: string): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  await res.body?.cancel();
  return res.status;
}
