import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/index.js';

/** The key under which a server's `instructions` are pinned; no tool name can contain "(". */
export const INSTRUCTIONS_KEY = '(instructions)';

/**
 * The pinned identity of a definition: SHA-256 over its RFC 8785 canonical JSON, so key order
 * and whitespace do not matter but every character of every string does (an added zero-width
 * space is a change). Throws for values JSON cannot represent faithfully (lone surrogates).
 */
export function hashDefinition(definition: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(definition), 'utf8').digest('hex')}`;
}
