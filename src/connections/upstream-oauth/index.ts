export type { UpstreamOAuthClientOptions } from './create-upstream-oauth-client.js';
export { createUpstreamOAuthClient } from './load-on-first-use.js';
export { createUpstreamOAuthGuard, type UpstreamOAuthEgressOptions } from './guarded-fetch.js';
