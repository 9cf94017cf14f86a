import type { UpstreamOAuthClient } from '../upstream-oauth-contract.js';
import type { UpstreamOAuthClientOptions } from './create-upstream-oauth-client.js';

/**
 * The upstream OAuth client, with openid-client loaded by its first use rather than at start:
 * most gateways have no upstream that people connect their own accounts to.
 */
export function createUpstreamOAuthClient(options: UpstreamOAuthClientOptions): UpstreamOAuthClient {
  let client: Promise<UpstreamOAuthClient> | undefined;
  const load = () =>
    (client ??= import('./create-upstream-oauth-client.js').then((m) =>
      m.createUpstreamOAuthClient(options),
    ));
  return {
    beginAuthorization: async (...args) => (await load()).beginAuthorization(...args),
    completeAuthorization: async (...args) => (await load()).completeAuthorization(...args),
    refresh: async (...args) => (await load()).refresh(...args),
    revoke: async (...args) => (await load()).revoke(...args),
    exchangeToken: async (...args) => (await load()).exchangeToken(...args),
  };
}
