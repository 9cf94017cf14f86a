import { PortcullisError } from '../errors/index.js';
import { resolveSecret, type SecretRef } from './secret-ref.js';
import { createVaultClient, type VaultClient } from './vault.js';

/**
 * Resolves any reference, `vault:` included. The Vault client is made from VAULT_ADDR,
 * VAULT_TOKEN and VAULT_NAMESPACE in `env` on first use, unless one is passed in.
 */
export async function resolveSecretAsync(
  ref: SecretRef,
  opts: { env: NodeJS.ProcessEnv; vault?: VaultClient; signal?: AbortSignal },
): Promise<string> {
  if (!ref.startsWith('vault:')) return resolveSecret(ref, opts.env);
  if (opts.vault) return opts.vault.read(ref, opts.signal);
  const address = opts.env.VAULT_ADDR;
  const token = opts.env.VAULT_TOKEN;
  if (!address || !token) {
    throw new PortcullisError(
      'config-invalid',
      `Secret ${ref} needs VAULT_ADDR and VAULT_TOKEN in the environment.`,
    );
  }
  const vault = createVaultClient({
    address,
    token,
    ...(opts.env.VAULT_NAMESPACE ? { namespace: opts.env.VAULT_NAMESPACE } : {}),
  });
  try {
    return await vault.read(ref, opts.signal);
  } finally {
    await vault.close();
  }
}
