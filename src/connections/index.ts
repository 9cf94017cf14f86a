// People's own upstream credentials (issue 13). See DESIGN.md in this folder.
export { connectionsConfigSchema, type ConnectionsConfig } from './config.js';
export {
  createConnections,
  type ConnectOutcome,
  type ConnectionView,
  type Connections,
  type ConnectionsDeps,
  type Person,
} from './create-connections.js';
export { ConnectionError, isConnectionError, type ConnectionErrorCode } from './errors.js';
export { kekFile, loadKek, writeNewKekFile } from './load-kek.js';
export {
  createVault,
  kekId,
  openVault,
  parseKek,
  rewrapVault,
  type SealBinding,
  type Vault,
} from './vault.js';
export { createConnectionRoutes, type ConnectionRoutesDeps } from './connection-routes.js';
export type * from './upstream-oauth-contract.js';
export {
  createUpstreamOAuthClient,
  createUpstreamOAuthGuard,
  type UpstreamOAuthClientOptions,
  type UpstreamOAuthEgressOptions,
} from './upstream-oauth/index.js';
