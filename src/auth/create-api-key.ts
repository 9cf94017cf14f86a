import { generateApiKey } from './api-key.js';
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
