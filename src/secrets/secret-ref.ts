import fs from 'node:fs';
import { z } from 'zod';
import { PortcullisError } from '../errors/index.js';

/**
 * A reference to a secret, never the secret: `env:NAME` reads an environment variable,
 * `file:PATH` reads a file (trailing newline dropped), `vault:MOUNT/PATH#KEY` reads one key of a
 * HashiCorp Vault KV v2 secret (see vault.ts). Configuration holds only references, so the file
 * can be reviewed and committed; values are resolved server-side when needed.
 */
export const secretRefSchema = z
  .string()
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+|vault:[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+#[A-Za-z0-9_.-]+)$/,
    {
      message:
        'must be a secret reference: env:NAME, file:/absolute/path or vault:mount/path#key (never the secret itself)',
    },
  )
  .describe('A secret reference: env:NAME, file:/absolute/path or vault:mount/path#key.');

export type SecretRef = z.output<typeof secretRefSchema>;

/**
 * Resolves an `env:` or `file:` reference; the error names the reference, never a value.
 * `vault:` references need the network and are resolved by `resolveSecretAsync`.
 */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if (ref.startsWith('env:')) {
    const value = env[ref.slice(4)];
    if (value === undefined || value === '') {
      throw new PortcullisError('config-invalid', `Secret ${ref} is not set in the environment.`);
    }
    return value;
  }
  if (ref.startsWith('vault:')) {
    throw new PortcullisError(
      'config-invalid',
      `Secret ${ref} is a Vault reference; it cannot be used here.`,
    );
  }
  const file = ref.slice(5);
  let value: string;
  try {
    value = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new PortcullisError('config-invalid', `Secret ${ref} cannot be read.`, {
      detail: String(err),
      cause: err,
    });
  }
  if (value === '') throw new PortcullisError('config-invalid', `Secret ${ref} is empty.`);
  return value;
}
