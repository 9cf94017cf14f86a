import { generateApiKey } from './api-key.js';
import type { ApiKeyRecord, ApiKeyStore } from '../storage/index.js';

/** A scope as keys and clients carry it: a plain `resource:action` token (e.g. `memory:read`). */
export const SCOPE_PATTERN = /^[a-z0-9][a-z0-9_.-]*(:[a-z0-9_.*-]+)*$/;

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

/**
 * Replaces a live key by a new one with the same owner, tenant, label, scopes and expiry, and
 * revokes the old one: what an operator does when a key may have leaked. Undefined when no live
 * key has that id.
 */
export async function rotateApiKey(
  store: ApiKeyStore,
  id: string,
  now: Date,
): Promise<{ old: ApiKeyRecord; record: ApiKeyRecord; key: string } | undefined> {
  const old = await store.findById(id);
  if (!old || old.revokedAt || (old.expiresAt && old.expiresAt <= now)) return undefined;
  const created = await createApiKey(
    store,
    { owner: old.owner, tenant: old.tenant, label: old.label, scopes: old.scopes, expiresAt: old.expiresAt },
    now,
  );
  await store.revoke(old.id, now);
  return { old, ...created };
}
