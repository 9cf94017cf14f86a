import type { Adapter, AdapterPayload } from 'oidc-provider';
import { hashClientSecret } from './client-secret.js';
import type { OAuthStore } from './store/index.js';

/**
 * oidc-provider's adapter interface over our narrow OAuth store. One adapter instance per model
 * name; the store keeps models apart by that name. `expiresIn` is relative seconds; the store
 * wants an absolute time so expired rows can be ignored and swept.
 */
export function createAdapterClass(store: OAuthStore, now: () => Date) {
  return class PortcullisAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(now().getTime() + expiresIn * 1000) : null;
      // Registered clients' secrets are kept only as hashes; the registration response, built
      // from the in-memory client, is the one time the secret is shown.
      const secret = payload.client_secret;
      const stored =
        this.model === 'Client' && typeof secret === 'string' && !secret.startsWith('sha256$')
          ? { ...payload, client_secret: hashClientSecret(secret) }
          : payload;
      await store.upsert(this.model, id, stored, expiresAt);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return store.find(this.model, id, now());
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return store.findByUserCode(this.model, userCode, now());
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return store.findByUid(this.model, uid, now());
    }

    async consume(id: string): Promise<void> {
      await store.consume(this.model, id, now());
    }

    async destroy(id: string): Promise<void> {
      await store.destroy(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.revokeByGrantId(grantId);
    }
  };
}
