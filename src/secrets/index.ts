export { resolveSecret, secretRefSchema, type SecretRef } from './secret-ref.js';
