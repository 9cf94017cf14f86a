export {
  oauthConfigSchema,
  type OAuthConfig,
  type FederationConfig,
  type ExternalAsConfig,
} from './config.js';
export {
  openSigningKeyRing,
  signingKeyFile,
  signingKeyFileProblem,
  signingKeyReference,
  watchSigningKeys,
  type SigningKeyRing,
  type SigningKeySource,
} from './signing-key-ring.js';
export { createOAuthServer, type OAuthServer, type OAuthServerDeps } from './create-oauth-server.js';
export {
  openMemoryOAuthDatabase,
  openOAuthDatabase,
  openPostgresOAuthDatabase,
  openSqliteOAuthDatabase,
  type OAuthDatabase,
  type OAuthStore,
  type GrantSummary,
} from './store/index.js';
export {
  generateSigningKey,
  readSigningKeys,
  readSigningSecrets,
  rotateSigningKeys,
  writeSigningKeys,
  type StoredSigningKey,
} from './signing-keys.js';
export { createClient, listClients, revokeClient, disableUser, type CreateClientRequest } from './manage.js';
export { openOAuthForDataDir } from './open-for-data-dir.js';
export { retiredKeyRetentionMs, rotateSigningKeyFile } from './rotate-signing-key.js';
export { loadCookieKeys } from './cookie-keys.js';
export type { OAuthEnv } from './http-env.js';
export { accountNav } from './pages/views.js';
export { OAUTH_MIGRATIONS } from './store/sqlite-store.js';
export { OAUTH_PG_SCHEMA } from './store/postgres-store.js';
export {
  publishRevocations,
  revocationSignal,
  withRevocationFanout,
  type RevocationSignal,
} from './revocation-fanout.js';
