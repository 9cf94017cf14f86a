import { createEgressGuard, INTERNAL_NETWORK_RANGES, type EgressGuard } from '../egress/index.js';
import { PortcullisError } from '../errors/index.js';

/** What `vault:` references need, read from Vault's own environment variables. */
export interface VaultClientOptions {
  /** VAULT_ADDR, e.g. https://vault.internal:8200 */
  readonly address: string;
  /** VAULT_TOKEN */
  readonly token: string;
  /** VAULT_NAMESPACE (Vault Enterprise / HCP) */
  readonly namespace?: string;
  /** For tests: a guard of the caller's; by default one allowing only the Vault host. */
  readonly guard?: EgressGuard;
}

export interface VaultClient {
  /** Reads `key` of the KV v2 secret named by a `vault:mount/path#key` reference. */
  read(ref: string, signal?: AbortSignal): Promise<string>;
  close(): Promise<void>;
}

/** Splits `vault:secret/team/app#token` into mount `secret`, path `team/app`, key `token`. */
function parseVaultRef(ref: string): { mount: string; path: string; key: string } {
  const m = /^vault:([A-Za-z0-9_.-]+)\/([A-Za-z0-9_./-]+)#([A-Za-z0-9_.-]+)$/.exec(ref);
  if (!m || m[2]!.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new PortcullisError(
      'config-invalid',
      `Secret ${ref} is not a valid vault:mount/path#key reference.`,
    );
  }
  return { mount: m[1]!, path: m[2]!, key: m[3]! };
}

/**
 * A minimal HashiCorp Vault KV v2 reader over its HTTP API (`GET /v1/<mount>/data/<path>` with
 * `X-Vault-Token`), through the egress guard. Errors name the reference, never a value.
 */
export function createVaultClient(options: VaultClientOptions): VaultClient {
  let base: URL;
  try {
    base = new URL(options.address);
  } catch {
    throw new PortcullisError('config-invalid', 'VAULT_ADDR is not a valid URL.');
  }
  const guard =
    options.guard ??
    createEgressGuard({
      allowHosts: [base.hostname],
      allowHttpHosts: base.protocol === 'http:' ? [base.hostname] : [],
      // Vault normally sits on an internal network, so its host may resolve to private and loopback
      // addresses; link-local (cloud metadata) stays refused, and no other host is reachable.
      allowAddresses: INTERNAL_NETWORK_RANGES,
      maxRedirects: 0,
      maxBytes: 1024 * 1024,
      timeoutMs: 10_000,
    });
  return {
    async read(ref, signal) {
      const { mount, path, key } = parseVaultRef(ref);
      const url = new URL(`v1/${mount}/data/${path}`, base.href.endsWith('/') ? base : `${base.href}/`);
      let body: unknown;
      try {
        const res = await guard.fetch(url, {
          headers: {
            'x-vault-token': options.token,
            ...(options.namespace ? { 'x-vault-namespace': options.namespace } : {}),
          },
          ...(signal ? { signal } : {}),
        });
        if (res.status !== 200) {
          throw new PortcullisError('config-invalid', `Secret ${ref} cannot be read from Vault.`, {
            detail: `HTTP ${res.status}`,
          });
        }
        body = JSON.parse(res.text());
      } catch (err) {
        if (err instanceof PortcullisError && err.code === 'config-invalid') throw err;
        throw new PortcullisError('config-invalid', `Secret ${ref} cannot be read from Vault.`, {
          detail: err instanceof Error ? err.message : String(err),
          cause: err,
        });
      }
      const value = (body as { data?: { data?: Record<string, unknown> } } | null)?.data?.data?.[key];
      if (typeof value !== 'string' || value === '') {
        throw new PortcullisError('config-invalid', `Secret ${ref} has no string value for key ${key}.`);
      }
      return value;
    },
    close: () => (options.guard ? Promise.resolve() : guard.close()),
  };
}
