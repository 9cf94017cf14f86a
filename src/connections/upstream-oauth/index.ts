export {
  createUpstreamOAuthClient,
  type UpstreamOAuthClientOptions,
} from './create-upstream-oauth-client.js';
