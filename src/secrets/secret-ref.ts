import fs from 'node:fs';
import { z } from 'zod';
import { PortcullisError } from '../errors/index.js';

/**
 * A reference to a secret, never the secret: `env:NAME` reads an environment variable,
 * `file:PATH` reads a file (trailing newline dropped). Configuration holds only references, so
 * the file can be reviewed and committed; values are resolved server-side when needed.
 */
export const secretRefSchema = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/, {
    message: 'must be a secret reference: env:NAME or file:/absolute/path (never the secret itself)',
  })
  .describe('A secret reference: env:NAME or file:/absolute/path.');

export type SecretRef = z.output<typeof secretRefSchema>;

/** Resolves a reference; the error names the reference, never a value. */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if (ref.startsWith('env:')) {
    const value = env[ref.slice(4)];
    if (value === undefined || value === '') {
      throw new PortcullisError('config-invalid', `Secret ${ref} is not set in the environment.`);
    }
    return value;
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
