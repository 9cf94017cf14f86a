/**
 * The audit log's two keys, kept as files in `<dataDir>/keys`:
 * - `audit-ed25519.pem`: Ed25519 private key (PKCS#8 PEM) that signs checkpoints, the head and the
 *   prune anchor. Its public half verifies them.
 * - `audit-args-hmac.key`: 32 random bytes (base64) keying the HMAC of tool-call arguments.
 * Files are 0600 in a 0700 directory. A key file others can read is refused rather than used:
 * anyone holding the signing key can rewrite history undetectably. Either may instead come from
 * a secret reference (`keys.auditSigning`, `keys.auditArgsHmac`).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveSecretAsync, type SecretRef } from '../secrets/index.js';
import { AuditError } from './errors.js';
import type { SigningKey } from './checkpoint.js';

export const SIGNING_KEY_FILE = 'audit-ed25519.pem';
export const ARGS_HMAC_KEY_FILE = 'audit-args-hmac.key';

export interface AuditKeys extends SigningKey {
  readonly publicKey: KeyObject;
  readonly argsHmacKey: Buffer;
}

/**
 * Key material given by secret references (`keys.auditSigning`, `keys.auditArgsHmac`) instead of
 * the files: replicas that share a secret store share the keys without sharing a directory.
 */
export interface AuditKeyValues {
  readonly signingPem?: string;
  readonly argsHmac?: string;
}

/** Resolves the configured references (`vault:` included); absent ones stay files. */
export async function resolveAuditKeyRefs(
  refs: { readonly auditSigning?: SecretRef | undefined; readonly auditArgsHmac?: SecretRef | undefined },
  env: NodeJS.ProcessEnv,
): Promise<AuditKeyValues> {
  return {
    ...(refs.auditSigning ? { signingPem: await resolveSecretAsync(refs.auditSigning, { env }) } : {}),
    ...(refs.auditArgsHmac ? { argsHmac: await resolveSecretAsync(refs.auditArgsHmac, { env }) } : {}),
  };
}

/** Creates the key files that are missing and not given (never overwrites one), then loads both. */
export async function ensureAuditKeys(keysDir: string, given: AuditKeyValues = {}): Promise<AuditKeys> {
  if (given.signingPem === undefined || given.argsHmac === undefined) {
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
  }
  if (given.signingPem === undefined) {
    await writeIfAbsent(path.join(keysDir, SIGNING_KEY_FILE), () =>
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
  }
  if (given.argsHmac === undefined) {
    await writeIfAbsent(
      path.join(keysDir, ARGS_HMAC_KEY_FILE),
      () => `${randomBytes(32).toString('base64')}\n`,
    );
  }
  return loadAuditKeys(keysDir, given);
}

export async function loadAuditKeys(keysDir: string, given: AuditKeyValues = {}): Promise<AuditKeys> {
  const signingSource = given.signingPem === undefined ? keysDir : 'keys.auditSigning';
  const signingPem = given.signingPem ?? (await readPrivateFile(path.join(keysDir, SIGNING_KEY_FILE)));
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(signingPem);
  } catch (err) {
    throw new AuditError('config-invalid', 'audit signing key is not a PKCS#8 PEM private key', {
      detail: signingSource,
      cause: err,
    });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AuditError('config-invalid', 'audit signing key is not an Ed25519 key', {
      detail: signingSource,
    });
  }
  const publicKey = createPublicKey(privateKey);
  const argsHmacKey = Buffer.from(
    (given.argsHmac ?? (await readPrivateFile(path.join(keysDir, ARGS_HMAC_KEY_FILE)))).trim(),
    'base64',
  );
  if (argsHmacKey.length !== 32) {
    throw new AuditError('config-invalid', 'audit args HMAC key must be 32 bytes (base64)', {
      detail: given.argsHmac === undefined ? keysDir : 'keys.auditArgsHmac',
    });
  }
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), argsHmacKey };
}

/** A short stable id for a public key: the first 16 hex digits of SHA-256 over its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

async function writeIfAbsent(file: string, content: () => string): Promise<void> {
  if (existsSync(file)) return;
  try {
    // 'wx' fails if the file exists, so two processes initialising at once cannot overwrite a key.
    await writeFile(file, content(), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

async function readPrivateFile(file: string): Promise<string> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (err) {
    throw new AuditError('not-found', 'audit key file is missing; run `portcullis init`', {
      detail: file,
      cause: err,
    });
  }
  if ((mode & 0o077) !== 0) {
    throw new AuditError(
      'config-invalid',
      'audit key file must not be readable by group or others (chmod 600)',
      {
        detail: file,
      },
    );
  }
  return readFile(file, 'utf8');
}
