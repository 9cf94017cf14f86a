export { authenticate, type AuthInput, type RoleCeilings } from './authenticate.js';
export type { AuthFailureReason, AuthResult, RevocationReason } from './result.js';
export { createApiKey, rotateApiKey, SCOPE_PATTERN, type CreateKeyRequest } from './create-api-key.js';
export { generateApiKey, hashApiKey, parseApiKeyId, apiKeyMatches, API_KEY_PREFIX } from './api-key.js';
export type { Principal, AuthMethod } from './principal.js';
export {
  verifyAccessToken,
  type TokenFailureReason,
  type VerifiedAccessToken,
  type VerifyOptions,
  type VerifyResult,
} from './verify-access-token.js';
export {
  createAccessTokenAuthenticator,
  type AccessTokenAuthenticator,
  type RevocationCheck,
} from './authenticate-access-token.js';
