import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { ConnectionStore } from '../storage/index.js';
import { ConnectionError } from './errors.js';

/**
 * The vault of people's upstream credentials. Two layers, both AES-256-GCM (node:crypto):
 * - one random **data key** seals every credential; it is stored only wrapped;
 * - a **key-encryption key** (KEK, from keys/ or a reference) wraps the data key.
 * Rotating the KEK re-wraps one small value (no row is re-encrypted, nothing is offline); the
 * data key is never written in the clear.
 *
 * Each sealed value carries additional authenticated data naming its tenant, subject, upstream
 * and connection id: GCM refuses to open it under any other binding, so a row copied to another
 * person (or another upstream) opens for nobody.
 */

/** What a sealed value is bound to. Every part must match to open it. */
export interface SealBinding {
  readonly tenant: string;
  readonly subject: string;
  readonly upstream: string;
  readonly connectionId: string;
}

export interface Vault {
  /** The id of the data key in use (its wraps are in the store). */
  readonly dataKeyId: string;
  seal(plaintext: string, binding: SealBinding): string;
  /** Throws ConnectionError `vault-open-failed` when the value was not sealed for this binding. */
  open(sealed: string, binding: SealBinding): string;
}

const VERSION = 'v1';
const ALG = 'aes-256-gcm';
const IV_BYTES = 12;

/** Which KEK a wrap is under: a short SHA-256 fingerprint (a 256-bit random key stays secret). */
export function kekId(kek: Buffer): string {
  return createHash('sha256').update('portcullis-vault-kek\0').update(kek).digest('hex').slice(0, 16);
}

/** Parses a KEK: 32 bytes as base64, base64url or hex. */
export function parseKek(text: string, where: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t)
    ? Buffer.from(t, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(t)
      ? Buffer.from(t.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''), 'base64url')
      : undefined;
  if (!key || key.length !== 32) {
    throw new ConnectionError(
      'vault-key-invalid',
      `The vault's key-encryption key (${where}) must be 32 bytes, as base64 or hex.`,
    );
  }
  return key;
}

function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALG, key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

function decrypt(key: Buffer, parts: readonly string[], aad: Buffer): Buffer {
  const [iv, body, tag] = parts.map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !body || !tag || iv.length !== IV_BYTES || tag.length !== 16) throw new Error('malformed');
  const decipher = createDecipheriv(ALG, key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

/** The AAD of a sealed credential: an unambiguous encoding of its binding (JSON array). */
const bindingAad = (dataKeyId: string, b: SealBinding) =>
  Buffer.from(
    JSON.stringify([
      'portcullis-connection',
      VERSION,
      dataKeyId,
      b.tenant,
      b.subject,
      b.upstream,
      b.connectionId,
    ]),
  );
const wrapAad = (dataKeyId: string) =>
  Buffer.from(JSON.stringify(['portcullis-data-key', VERSION, dataKeyId]));

export function wrapDataKey(kek: Buffer, dataKeyId: string, dataKey: Buffer): string {
  return encrypt(kek, dataKey, wrapAad(dataKeyId));
}

function unwrapDataKey(kek: Buffer, dataKeyId: string, wrapped: string): Buffer {
  return decrypt(kek, wrapped.split('.'), wrapAad(dataKeyId));
}

/** A vault over a data key already unwrapped. */
export function createVault(dataKeyId: string, dataKey: Buffer): Vault {
  return {
    dataKeyId,
    seal(plaintext, binding) {
      return `${VERSION}.${dataKeyId}.${encrypt(dataKey, Buffer.from(plaintext, 'utf8'), bindingAad(dataKeyId, binding))}`;
    },
    open(sealed, binding) {
      const [version, keyId, ...rest] = sealed.split('.');
      if (version !== VERSION || keyId !== dataKeyId || rest.length !== 3) {
        throw new ConnectionError('vault-open-failed', 'A stored credential cannot be opened.', {
          detail: `unknown format or data key ${String(keyId).slice(0, 40)}`,
        });
      }
      try {
        return decrypt(dataKey, rest, bindingAad(dataKeyId, binding)).toString('utf8');
      } catch {
        // GCM authentication failed: tampered, or sealed for another person, upstream or id.
        throw new ConnectionError('vault-open-failed', 'A stored credential cannot be opened.', {
          detail: `authentication failed for connection ${binding.connectionId}`,
        });
      }
    },
  };
}

/**
 * Opens the vault with a KEK: unwraps the data key stored under it, or, on a store with no data
 * key yet, makes one and stores it wrapped. Fails closed: wraps exist but none is under this KEK,
 * or the one under it does not authenticate → `vault-key-wrong`, and the gateway does not start
 * (it must never make a second data key and silently orphan every stored credential).
 */
export async function openVault(store: ConnectionStore, kek: Buffer, now: Date): Promise<Vault> {
  const id = kekId(kek);
  let wraps = await store.dataKeys();
  if (wraps.length === 0) {
    const dataKeyId = `dk${randomBytes(6).toString('hex')}`;
    const dataKey = randomBytes(32);
    // Only if still empty: another gateway starting at the same moment may have made one first.
    await store.addFirstDataKey({
      dataKeyId,
      kekId: id,
      wrapped: wrapDataKey(kek, dataKeyId, dataKey),
      createdAt: now,
    });
    wraps = await store.dataKeys();
  }
  const mine = wraps.filter((w) => w.kekId === id);
  const ids = new Set(wraps.map((w) => w.dataKeyId));
  if (ids.size !== 1) {
    throw new ConnectionError('vault-key-wrong', 'The connections vault holds more than one data key.', {
      detail: [...ids].join(', '),
    });
  }
  if (mine.length === 0) {
    throw new ConnectionError(
      'vault-key-wrong',
      `The key-encryption key (fingerprint ${id}) does not open the connections vault; it is wrapped under ${[
        ...new Set(wraps.map((w) => w.kekId)),
      ].join(
        ', ',
      )}. Configure the key it was made with (connections.keyEncryptionKey or keys/connections-kek).`,
    );
  }
  const wrap = mine[0]!;
  try {
    return createVault(wrap.dataKeyId, unwrapDataKey(kek, wrap.dataKeyId, wrap.wrapped));
  } catch {
    throw new ConnectionError(
      'vault-key-wrong',
      `The connections vault's data key does not open under the key-encryption key ${id}: the key or the stored wrap is damaged.`,
    );
  }
}

/**
 * KEK rotation: wraps the data key under `next` as well (the old KEK still opens it, so every
 * running gateway and every replica keeps working). `retire` then drops every wrap not under
 * `next`, once nothing starts with the old KEK any more.
 */
export async function rewrapVault(
  store: ConnectionStore,
  current: Buffer,
  next: Buffer,
  now: Date,
): Promise<{ from: string; to: string }> {
  const vault = await openVault(store, current, now);
  const wraps = await store.dataKeys();
  const wrap = wraps.find((w) => w.kekId === kekId(current))!;
  const dataKey = unwrapDataKey(current, wrap.dataKeyId, wrap.wrapped);
  await store.addDataKey({
    dataKeyId: vault.dataKeyId,
    kekId: kekId(next),
    wrapped: wrapDataKey(next, vault.dataKeyId, dataKey),
    createdAt: now,
  });
  // Proves the new wrap opens before anyone relies on it.
  await openVault(store, next, now);
  return { from: kekId(current), to: kekId(next) };
}
