export {
  authenticate,
  type AuthFailureReason,
  type AuthInput,
  type AuthResult,
  type RoleCeilings,
} from './authenticate.js';
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
  principalFromToken,
  type AccessTokenAuthenticator,
  type RevocationCheck,
  type RevocationReason,
} from './authenticate-access-token.js';
