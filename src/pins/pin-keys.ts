import { INSTRUCTIONS_KEY } from './hash-definition.js';

/**
 * The keys under which an upstream's items are pinned, in the lockfile and the observed file:
 * - a tool: its name as the upstream names it (1–128 of A-Z a-z 0-9 _ - .);
 * - a prompt: `prompt:<name>`;
 * - a resource template: `resource-template:<uriTemplate>`;
 * - the server's instructions: `(instructions)`.
 * No tool name contains ":" or "(", so the kinds can never take each other's keys.
 */
export type PinKind = 'tool' | 'prompt' | 'resource-template' | 'instructions';

const PROMPT_PREFIX = 'prompt:';
const TEMPLATE_PREFIX = 'resource-template:';

export const promptKey = (name: string): string => `${PROMPT_PREFIX}${name}`;
export const templateKey = (uriTemplate: string): string => `${TEMPLATE_PREFIX}${uriTemplate}`;

/** What kind of item a key pins, and the item's own name (a tool or prompt name, a uriTemplate). */
export function parsePinKey(key: string): { kind: PinKind; name: string } {
  if (key === INSTRUCTIONS_KEY) return { kind: 'instructions', name: key };
  if (key.startsWith(PROMPT_PREFIX)) return { kind: 'prompt', name: key.slice(PROMPT_PREFIX.length) };
  if (key.startsWith(TEMPLATE_PREFIX))
    return { kind: 'resource-template', name: key.slice(TEMPLATE_PREFIX.length) };
  return { kind: 'tool', name: key };
}
