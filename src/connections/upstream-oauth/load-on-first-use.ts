import type { UpstreamOAuthClient } from '../upstream-oauth-contract.js';
import type * as ClientModule from './create-upstream-oauth-client.js';
import type { UpstreamOAuthClientOptions } from './create-upstream-oauth-client.js';
import { importAgain } from '../../lazy/index.js';

const loadClientModule = importAgain<typeof ClientModule>(
  new URL('./create-upstream-oauth-client.js', import.meta.url),
);

/**
 * The upstream OAuth client, with openid-client loaded by its first use rather than at start:
 * most gateways have no upstream that people connect their own accounts to.
 */
export function createUpstreamOAuthClient(options: UpstreamOAuthClientOptions): UpstreamOAuthClient {
  // A failed load is not kept: the next call tries again (lazy/import-again.ts).
  let client: Promise<UpstreamOAuthClient> | undefined;
  const load = () =>
    (client ??= loadClientModule().then(
      (m) => m.createUpstreamOAuthClient(options),
      (err: unknown) => {
        client = undefined;
        throw err;
      },
    ));
  return {
    beginAuthorization: async (...args) => (await load()).beginAuthorization(...args),
    completeAuthorization: async (...args) => (await load()).completeAuthorization(...args),
    refresh: async (...args) => (await load()).refresh(...args),
    revoke: async (...args) => (await load()).revoke(...args),
    exchangeToken: async (...args) => (await load()).exchangeToken(...args),
  };
}
