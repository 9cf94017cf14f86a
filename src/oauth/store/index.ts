export type { GrantSummary, ModelPayload, OAuthStore } from './contracts.js';
export { openMemoryOAuthStore } from './memory-store.js';
export { createSqliteOAuthStore } from './sqlite-store.js';
export {
  openMemoryOAuthDatabase,
  openOAuthDatabase,
  openPostgresOAuthDatabase,
  openSqliteOAuthDatabase,
  type OAuthDatabase,
} from './open-oauth-database.js';
