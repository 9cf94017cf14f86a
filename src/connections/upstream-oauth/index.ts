export {
  createUpstreamOAuthClient,
  type UpstreamOAuthClientOptions,
} from './create-upstream-oauth-client.js';
export { createUpstreamOAuthGuard, type UpstreamOAuthEgressOptions } from './guarded-fetch.js';
