export { authenticate, type AuthFailureReason, type AuthInput, type AuthResult } from './authenticate.js';
export { generateApiKey, hashApiKey, parseApiKeyId, apiKeyMatches, API_KEY_PREFIX } from './api-key.js';
export type { Principal, AuthMethod } from './principal.js';
