import { generateApiKey } from '../auth/index.js';
import type { ApiKeyRecord, ApiKeyStore } from '../storage/index.js';

export interface CreateKeyRequest {
  readonly owner: string;
  readonly tenant?: string;
  readonly label: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date | null;
}

/** Creates and stores an API key; the returned `key` is the only time it exists in clear. */
export async function createApiKey(
  store: ApiKeyStore,
  req: CreateKeyRequest,
  now: Date,
): Promise<{ record: ApiKeyRecord; key: string }> {
  const generated = generateApiKey();
  const record: ApiKeyRecord = {
    id: generated.id,
    hash: generated.hash,
    owner: req.owner,
    tenant: req.tenant ?? req.owner,
    label: req.label,
    scopes: [...new Set(req.scopes)],
    createdAt: now,
    expiresAt: req.expiresAt,
    lastUsedAt: null,
    revokedAt: null,
  };
  await store.insert(record);
  return { record, key: generated.key };
}

/** The scopes of every built-in tool. */
export const BUILT_IN_SCOPES = ['memory:read', 'memory:write', 'memory:delete', 'web:fetch'] as const;

/** Who the first-run admin key belongs to: a person with the `admin` role. */
export const FIRST_RUN_OWNER = 'admin';

/** What the first-run admin key receives: every built-in tool, and reading the audit log. */
export const ADMIN_SCOPES = [...BUILT_IN_SCOPES, 'admin:audit'] as const;
