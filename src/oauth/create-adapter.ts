import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { hashClientSecret } from './client-secret.js';
import type { OAuthStore } from './store/index.js';

/** The registration cap is reached: RFC 7591 registration answers 503 until room frees up. */
function registrationFull(): Error {
  const err = new errors.TemporarilyUnavailable(
    'This server is not accepting new client registrations right now; try again later.',
  );
  // Built as a 4xx so oidc-provider shows its code and description; sent as 503.
  return Object.assign(err, { status: 503, statusCode: 503 });
}

/**
 * oidc-provider's adapter interface over our narrow OAuth store. One adapter instance per model
 * name; the store keeps models apart by that name. `expiresIn` is relative seconds; the store
 * wants an absolute time so expired rows can be ignored and swept.
 *
 * Clients reach this adapter only through Dynamic Client Registration (operator clients are
 * written by `createClient`), so the registration bounds live here, whatever path or request
 * shape led to the write: at most `maxClients` live registered clients (a new one beyond that
 * is refused with 503 `temporarily_unavailable`), and each expires after
 * `unusedClientTtlSeconds` unless a person completes an authorization with it — saving a grant
 * for a client keeps it for good.
 */
export function createAdapterClass(
  store: OAuthStore,
  now: () => Date,
  opts: { readonly maxClients: number; readonly unusedClientTtlSeconds: number },
) {
  return class PortcullisAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client' && (await store.countRegisteredClients(now())) >= opts.maxClients) {
        throw registrationFull();
      }
      const ttl = this.model === 'Client' ? opts.unusedClientTtlSeconds : expiresIn;
      const expiresAt = ttl ? new Date(now().getTime() + ttl * 1000) : null;
      // Registered clients' secrets are kept only as hashes; the registration response, built
      // from the in-memory client, is the one time the secret is shown.
      const secret = payload.client_secret;
      const stored =
        this.model === 'Client' && typeof secret === 'string' && !secret.startsWith('sha256$')
          ? { ...payload, client_secret: hashClientSecret(secret) }
          : payload;
      await store.upsert(this.model, id, stored, expiresAt);
      if (this.model === 'Grant' && typeof payload.clientId === 'string') {
        await store.markClientUsed(payload.clientId);
      }
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
