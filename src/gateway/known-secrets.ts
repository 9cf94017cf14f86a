import fs from 'node:fs';

/**
 * The private parts of the signing keys, which the redactor must never let out (a model asked
 * to "print the key file" through some tool would otherwise be one step from forging tokens).
 */
export function readSigningSecrets(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const set = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys?: { d?: unknown }[] };
  return (set.keys ?? []).map((k) => k.d).filter((d): d is string => typeof d === 'string');
}
