import type { Catalogue, CompletionRef, Tool } from '../tools/index.js';
import type { CallMethod } from './protocol.js';

/**
 * What a call reaches: a tool by name, or the operation an upstream's surface serves for a prompt,
 * a resource URI or a completion ref (tools/surface.ts). Undefined when nothing answers to it, so
 * a guessed URI of an upstream the catalogue does not hold is the same miss as a typo.
 */
export function resolveTarget(
  catalogue: Catalogue,
  method: CallMethod,
  name: string,
  args: Record<string, unknown>,
): Tool | undefined {
  switch (method) {
    case 'tools/call':
      return catalogue.get(name);
    case 'prompts/get':
      return catalogue.prompt(name)?.op;
    case 'resources/read':
      return catalogue.resourceOwner(name)?.surface.resources?.reader(name);
    case 'completion/complete': {
      const ref = args.ref as CompletionRef;
      const surface =
        ref.type === 'ref/prompt'
          ? catalogue.surface(catalogue.prompt(ref.name)?.op.upstream ?? '')
          : catalogue.resourceOwner(ref.uri)?.surface;
      return surface?.completer(ref);
    }
  }
}

/** What the caller is told when nothing answers to the name (always -32602, in-band). */
export function unknownTargetMessage(method: CallMethod, name: string): string {
  switch (method) {
    case 'tools/call':
      return `Unknown tool: ${name}. Call tools/list to see the available tools.`;
    case 'prompts/get':
      return `Unknown prompt: ${name}. Call prompts/list to see the available prompts.`;
    case 'resources/read':
      return `Resource not found: ${name}.`;
    case 'completion/complete':
      return `Nothing to complete for ${name}.`;
  }
}
