export { resolveSecret, secretRefSchema, type SecretRef } from './secret-ref.js';
export { createVaultClient, type VaultClient, type VaultClientOptions } from './vault.js';
export { resolveSecretAsync } from './resolve-secret-async.js';
